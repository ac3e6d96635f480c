/**
 * How the long-running CLI commands (`propeller coordinator`, `propeller up`)
 * end: on SIGTERM or SIGINT they close what they run and exit 0, or 1 when
 * closing failed.
 */

/** Runs `close` on the first SIGTERM or SIGINT, then exits 0 (or 1 if `close` rejected). */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
