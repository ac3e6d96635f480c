import * as grpc from '@grpc/grpc-js';
import { latentChannelOptions } from '../../common/grpc-options.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { DecodeRequest } from '../../common/proto/generated/propeller/v1/DecodeRequest.ts';
import type { DecodeResponse__Output } from '../../common/proto/generated/propeller/v1/DecodeResponse.ts';
import type { EncodeRequest } from '../../common/proto/generated/propeller/v1/EncodeRequest.ts';
import type { EncodeResponse__Output } from '../../common/proto/generated/propeller/v1/EncodeResponse.ts';
import type { EvaluateRequest } from '../../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';

/**
 * The calls the coordinator makes to one worker. Errors carry grpc-js
 * status codes (see failures.ts); unit tests pass fakes through
 * `RegistryOptions.connect`.
 */
export interface WorkerCalls {
  info(timeoutMs: number): Promise<InfoResponse__Output>;
  /**
   * `onReceived` runs when the worker has the whole request (its early
   * response headers arrive; see worker/denoiser-service.ts), so a caller can
   * send the next batch only then instead of interleaving two on the wire.
   */
  evaluate(req: EvaluateRequest, timeoutMs: number, signal?: AbortSignal, onReceived?: () => void): Promise<EvaluateResponse__Output>;
  decode(req: DecodeRequest, timeoutMs: number, signal?: AbortSignal): Promise<DecodeResponse__Output>;
  encode(req: EncodeRequest, timeoutMs: number, signal?: AbortSignal): Promise<EncodeResponse__Output>;
  close(): void;
}

/**
 * gRPC client of one worker's DenoiserService. Every call carries a
 * deadline and can be aborted; grpc-js errors pass through with their code.
 */
export class WorkerClient implements WorkerCalls {
  private readonly client: DenoiserServiceClient;

  constructor(
    readonly address: string,
    maxMessageBytes: number,
    /** TLS (and the client certificate for mTLS) when the workers require it; plaintext by default. */
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const Ctor = loadProtos().denoiser.propeller.v1.DenoiserService;
    this.client = new Ctor(address, credentials, latentChannelOptions(maxMessageBytes));
  }

  info(timeoutMs: number): Promise<InfoResponse__Output> {
    return this.unary((cb, opts) => this.client.Info({}, opts, cb), timeoutMs);
  }

  evaluate(req: EvaluateRequest, timeoutMs: number, signal?: AbortSignal, onReceived?: () => void): Promise<EvaluateResponse__Output> {
    return this.unary(
      (cb, opts) => {
        const call = this.client.Evaluate(req, opts, cb);
        if (onReceived) call.once('metadata', () => onReceived());
        return call;
      },
      timeoutMs,
      signal,
    );
  }

  decode(req: DecodeRequest, timeoutMs: number, signal?: AbortSignal): Promise<DecodeResponse__Output> {
    return this.unary((cb, opts) => this.client.Decode(req, opts, cb), timeoutMs, signal);
  }

  encode(req: EncodeRequest, timeoutMs: number, signal?: AbortSignal): Promise<EncodeResponse__Output> {
    return this.unary((cb, opts) => this.client.Encode(req, opts, cb), timeoutMs, signal);
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(
    start: (cb: (err: grpc.ServiceError | null, res?: T) => void, opts: grpc.CallOptions) => grpc.ClientUnaryCall,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => call.cancel();
      const call = start(
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(signal?.aborted ? signal.reason : err);
          else resolve(res as T);
        },
        { deadline: Date.now() + timeoutMs },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
