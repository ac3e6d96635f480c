import { StoreOutageError, UnavailableError, errorMessage } from '../../common/errors.ts';

/**
 * NATS being unreachable is a state of the service, not a bug of the call:
 * the JetStream adapters report it as UnavailableError, which the API maps
 * to UNAVAILABLE (clients retry it) instead of INTERNAL.
 */

/** Names of the nats.js errors that mean the server is unreachable or not answering. */
const OUTAGE_ERRORS = new Set(['TimeoutError', 'ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError', 'NoResponders', 'RequestError']);

/** Whether `err` (or an error in its cause chain) says NATS cannot be reached now. */
export function isNatsOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (OUTAGE_ERRORS.has(e.name)) return true;
  }
  return false;
}

function translated(err: unknown, what: string): unknown {
  return isNatsOutage(err) && !(err instanceof UnavailableError) ? new StoreOutageError(`${what} unavailable: NATS did not answer (${errorMessage(err)})`, { cause: err }) : err;
}

/**
 * `port` with every method's outage errors (thrown, or rejected by a
 * returned promise) turned into UnavailableError; everything else passes
 * through unchanged. Methods run on the port itself, so its private state
 * is untouched by the wrapping.
 */
export function outagesUnavailable<T extends object>(port: T, what: string): T {
  return new Proxy(port, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          throw translated(err, what);
        }
        return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(translated(err, what))) : result;
      };
    },
  });
}
