import * as grpc from '@grpc/grpc-js';
import { grpcCode } from '../../common/grpc-status.ts';

/**
 * What a failed worker call says about the worker:
 * - `timeout`: no answer before the deadline (stuck, overloaded or paused);
 * - `draining`: the worker refused because it is shutting down;
 * - `unreachable`: no connection (process gone, address wrong);
 * - `error`: the worker answered with an error; the next call may work.
 */
export type FailureKind = 'timeout' | 'draining' | 'unreachable' | 'error';

/**
 * Classifies an error thrown by a grpc-js call to a worker. A draining
 * worker answers UNAVAILABLE with "worker is draining" (worker/denoiser-service.ts);
 * that text is the only thing telling it apart from a vanished server.
 */
export function classifyFailure(err: unknown): FailureKind {
  switch (grpcCode(err)) {
    case grpc.status.DEADLINE_EXCEEDED:
      return 'timeout';
    case grpc.status.UNAVAILABLE:
      return /\bdraining\b/.test((err as { details?: string }).details ?? '') ? 'draining' : 'unreachable';
    default:
      return 'error';
  }
}
