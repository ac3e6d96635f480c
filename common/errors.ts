/**
 * Typed errors of the core. They carry what went wrong in fields; only the
 * gRPC edge (common/grpc-status.ts) turns them into status codes.
 */

/** A request field is wrong. `field` is the dotted path, e.g. `spec.frames`. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field} ${problem}`, options);
  }
}

/** A named thing (job, model, worker) does not exist. The message shows at most 64 characters of `id`. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${quoteBounded(id)} not found`);
  }
}

/** A limit is reached: queue full, message too large. */
export class ResourceExhaustedError extends Error {
  override readonly name = 'ResourceExhaustedError';
}

/** The caller presented no credentials, or ones that match no tenant. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/** The service cannot take work now (draining, no workers). Retryable. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/**
 * A shared store (NATS JetStream) did not answer: the service, not the
 * request or the job, is at fault. A job that meets it is left for another
 * try (the queue redelivers it; its checkpoint lets it go on), not failed.
 */
export class StoreOutageError extends UnavailableError {}

/** The operation does not fit the current state (e.g. download before success). */
export class FailedPreconditionError extends Error {
  override readonly name = 'FailedPreconditionError';
}

/** The job was canceled; work in flight stops with this. */
export class CanceledError extends Error {
  override readonly name = 'CanceledError';
  constructor(message = 'canceled') {
    super(message);
  }
}

/** Message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Most characters of request text an error message shows by default ({@link quoteBounded}). */
export const MAX_ECHO_CHARS = 64;

/**
 * Request text quoted for an error message or a log line, bounded: at most
 * `max` characters, then how long it was, e.g. `"aaaa…" (200000 characters)`.
 * Every string a service echoes goes through this, so a huge name cannot
 * blow up a status (whose details travel in an HTTP/2 header).
 */
export function quoteBounded(value: unknown, max = MAX_ECHO_CHARS): string {
  // Malformed requests put numbers, objects or arrays where text belongs: quote what they print as.
  const s = typeof value === 'string' ? value : String(value);
  if (s.length <= max) return `"${s}"`;
  // Do not cut a surrogate pair in half.
  const end = /[\uD800-\uDBFF]/.test(s[max - 1]!) ? max - 1 : max;
  return `"${s.slice(0, end)}…" (${s.length} characters)`;
}
