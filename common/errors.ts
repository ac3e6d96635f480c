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

/** A named thing (job, model, worker) does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" not found`);
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
