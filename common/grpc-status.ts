import * as grpc from '@grpc/grpc-js';
import {
  CanceledError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  errorMessage,
} from './errors.ts';

/** A gRPC error ready to hand to a callback or `call.destroy`. */
export type GrpcError = Partial<grpc.StatusObject> & { code: grpc.status; details: string };

/**
 * Most UTF-8 bytes of status details. The details travel percent-encoded in
 * the `grpc-message` trailer, an HTTP/2 header: a status larger than the
 * peer's header limit never arrives, and the call hangs until its deadline.
 * 2 KiB encodes to at most 6 KiB, well under every client's limit.
 */
export const MAX_STATUS_DETAILS_BYTES = 2048;

/**
 * Status details cut to {@link MAX_STATUS_DETAILS_BYTES}, on a character
 * boundary, saying how long they were. The last line of defence: messages
 * already quote request text bounded (`quoteBounded` in errors.ts).
 */
export function boundDetails(details: string): string {
  if (Buffer.byteLength(details) <= MAX_STATUS_DETAILS_BYTES) return details;
  const suffix = `… (${details.length} characters in all)`;
  const budget = MAX_STATUS_DETAILS_BYTES - Buffer.byteLength(suffix);
  let bytes = 0;
  let end = 0;
  for (const ch of details) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    bytes += n;
    end += ch.length;
  }
  return details.slice(0, end) + suffix;
}

/** Maps a core error to a gRPC status at the edge, details bounded. Unknown errors are INTERNAL. */
export function toGrpcError(err: unknown): GrpcError {
  const details = boundDetails(errorMessage(err));
  if (err instanceof InvalidArgumentError) return { code: grpc.status.INVALID_ARGUMENT, details };
  if (err instanceof NotFoundError) return { code: grpc.status.NOT_FOUND, details };
  if (err instanceof ResourceExhaustedError) return { code: grpc.status.RESOURCE_EXHAUSTED, details };
  if (err instanceof UnavailableError) return { code: grpc.status.UNAVAILABLE, details };
  if (err instanceof FailedPreconditionError) return { code: grpc.status.FAILED_PRECONDITION, details };
  if (err instanceof CanceledError) return { code: grpc.status.CANCELLED, details };
  if (err instanceof UnauthenticatedError) return { code: grpc.status.UNAUTHENTICATED, details };
  return { code: grpc.status.INTERNAL, details };
}

/**
 * Status codes a client may retry on another server, each with its reason.
 * Evaluations are pure, so re-sending one is always safe.
 */
export const RETRYABLE_CODES: ReadonlyMap<grpc.status, string> = new Map([
  [grpc.status.UNAVAILABLE, 'server down, draining or unreachable'],
  [grpc.status.DEADLINE_EXCEEDED, 'server too slow or stuck; another may answer'],
  [grpc.status.RESOURCE_EXHAUSTED, 'server busy'],
  [grpc.status.INTERNAL, 'server-side failure of this attempt'],
  [grpc.status.UNKNOWN, 'unexpected server failure'],
  [grpc.status.CANCELLED, 'the connection dropped under the call'],
  [grpc.status.ABORTED, 'the server gave up on the call'],
]);

/** The numeric status code of an error thrown by a grpc-js call, if any. */
export function grpcCode(err: unknown): grpc.status | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
