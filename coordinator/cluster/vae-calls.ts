/**
 * The VAE's Decode and Encode calls: one call on the least busy serving
 * worker, retried on another one when it fails (VAE calls are pure, so a
 * retry is harmless), waiting up to `noWorkerTimeoutMs` for a serving worker.
 */
import { UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { allFinite, decodeTensor, encodeTensor, encodeUint8Tensor } from '../../common/tensor-codec.ts';
import { MONOTONIC_CLOCK, type Clock } from './clock.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

export interface VaeCallOptions {
  /** Deadline of one call. */
  batchTimeoutMs: number;
  /** Failed calls before giving up. */
  maxAttempts: number;
  /** How long a call waits for a serving worker. */
  noWorkerTimeoutMs: number;
  /** What the wait for a serving worker is timed with (default: the monotonic clock). */
  clock?: Clock;
  log: Logger;
}

export class VaeCalls {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly opts: VaeCallOptions,
  ) {}

  /** Latent frames [N, C, h, w] -> RGB frames [N, 3, H, W] (uint8, planar). */
  decode(model: string, latents: Float32Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Uint8Array; shape: number[] }> {
    return this.onAnyWorker('decode', model, signal, async (w) => {
      const res = await w.client.decode({ model, latents: encodeTensor(latents, shape, 'float32') }, this.opts.batchTimeoutMs, signal);
      const frames = res.frames;
      if (!frames || frames.dtype !== 'uint8') throw new Error('worker returned no uint8 frames');
      return { data: new Uint8Array(frames.data.buffer, frames.data.byteOffset, frames.data.byteLength), shape: frames.shape.map(Number) };
    });
  }

  /** RGB frames [N, 3, H, W] (uint8, planar) -> latent frames [N, C, h, w]. */
  encode(model: string, frames: Uint8Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Float32Array; shape: number[] }> {
    return this.onAnyWorker('encode', model, signal, async (w) => {
      const res = await w.client.encode({ model, frames: encodeUint8Tensor(frames, shape) }, this.opts.batchTimeoutMs, signal);
      const latents = decodeTensor(res.latents, 'latents');
      if (latents.shape.length !== 4 || latents.shape[0] !== shape[0]) throw new Error(`worker returned latents of shape ${latents.shape.join('x')} for ${shape[0]} frames`);
      if (!allFinite(latents.data)) throw new Error('worker returned latents with NaN or Inf');
      return { data: latents.data, shape: latents.shape };
    });
  }

  private async onAnyWorker<T>(what: 'decode' | 'encode', model: string, signal: AbortSignal | undefined, run: (w: WorkerEntry) => Promise<T>): Promise<T> {
    let lastError = '';
    const tried = new Set<string>();
    const clock = this.opts.clock ?? MONOTONIC_CLOCK;
    const deadline = clock.now() + this.opts.noWorkerTimeoutMs;
    for (let attempt = 0; attempt < this.opts.maxAttempts; ) {
      signal?.throwIfAborted();
      // Workers not tried yet first, then the least busy.
      const candidates = this.registry.serving(model).sort((a, b) => Number(tried.has(a.address)) - Number(tried.has(b.address)) || a.inFlight - b.inFlight);
      const w = candidates[0];
      if (!w) {
        if (clock.now() > deadline) throw new UnavailableError(`no serving worker has model "${model}"${lastError ? ` (last error: ${lastError})` : ''}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      attempt++;
      tried.add(w.address);
      this.registry.began(w);
      try {
        return await run(w);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        lastError = `worker ${w.address}: ${errorMessage(err)}`;
        this.registry.failed(w, err);
        this.opts.log.warn(`${what} failed, will retry`, { error: lastError });
      } finally {
        this.registry.ended(w);
      }
    }
    throw new Error(`${what} failed after ${this.opts.maxAttempts} attempts; last error: ${lastError}`);
  }
}
