/**
 * TESTING AID ONLY: makes a worker fail a share of its Evaluate calls on
 * purpose (`propeller worker --fail-rate R`), so fault tests can show that
 * the coordinator retries failed batches elsewhere and fails a job with a
 * clear message when every worker fails. Never set it in production.
 */

/** The error an injected fault raises (the worker answers INTERNAL with its message). */
export class InjectedFaultError extends Error {
  override readonly name = 'InjectedFaultError';
  constructor(
    readonly call: number,
    readonly rate: number,
  ) {
    super(`injected fault on Evaluate call ${call} (worker started with --fail-rate ${rate}, a testing aid)`);
  }
}

/**
 * Decides deterministically which calls fail: call k (from 1) fails when
 * floor(k * rate) > floor((k - 1) * rate), so exactly `rate` of the calls
 * fail and rate 1 fails every one. No randomness: runs repeat exactly.
 */
export class FaultInjector {
  private calls = 0;

  constructor(readonly rate: number) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fail rate must be in [0, 1], got ${rate}`);
  }

  /** Throws for the calls that are to fail; used as (part of) the service's afterCompute hook. */
  check(): void {
    const k = ++this.calls;
    if (Math.floor(k * this.rate) > Math.floor((k - 1) * this.rate)) throw new InjectedFaultError(k, this.rate);
  }
}
