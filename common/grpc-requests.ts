import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, errorMessage } from './errors.ts';
import { toGrpcError } from './grpc-status.ts';

/**
 * Malformed requests at the very edge. grpc-js answers a request body that
 * does not decode (random bytes, a truncated message, a wrong wire type)
 * with INTERNAL, which reads as a server bug; and a handler that throws
 * before answering gets UNKNOWN. These wrappers make both INVALID_ARGUMENT
 * (or whatever the thrown error maps to): the service definition decodes
 * tolerantly, marking what does not decode, and every handler answers a
 * marked request, or its own synchronous throw, with a proper status.
 */

const MALFORMED = Symbol('malformed request');

interface MalformedRequest {
  [MALFORMED]: string;
}

/** Why the request did not decode, or undefined for a decoded request. */
function malformed(request: unknown): string | undefined {
  return typeof request === 'object' && request !== null && MALFORMED in request ? (request as MalformedRequest)[MALFORMED] : undefined;
}

/** The service definition with request decoding that never throws (see {@link guardHandlers}). */
export function tolerantService(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return { [MALFORMED]: errorMessage(err) } satisfies MalformedRequest;
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/** A handler's call, as far as the guard needs it. */
interface GuardedCall {
  request: unknown;
  metadata: grpc.Metadata;
  emit(event: 'error', err: unknown): boolean;
}

/**
 * Wraps unary and server-streaming handlers: `before` runs first (e.g.
 * authentication), then a request that did not decode is answered
 * INVALID_ARGUMENT, and a synchronous throw is answered with its status
 * instead of UNKNOWN. Use with {@link tolerantService}.
 */
export function guardHandlers<H extends object>(handlers: H, opts: { before?: (call: { metadata: grpc.Metadata }) => void } = {}): H {
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (call: GuardedCall, cb?: grpc.sendUnaryData<unknown>) => void][]) {
    out[name] = (call: GuardedCall, cb?: grpc.sendUnaryData<unknown>) => {
      try {
        opts.before?.(call);
        const why = malformed(call.request);
        if (why !== undefined) throw new InvalidArgumentError('request', `is not a valid ${name} request message (${why})`);
        handler(call, cb);
      } catch (err) {
        const status = toGrpcError(err);
        // Unary handlers answer through the callback; server streams end with an 'error' event.
        if (typeof cb === 'function') cb(status);
        else call.emit('error', status);
      }
    };
  }
  return out as H;
}
