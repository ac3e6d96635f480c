import * as grpc from '@grpc/grpc-js';
import { encodeTensor, encodeUint8Tensor, decodeTensor, allFinite } from '../../common/tensor-codec.ts';
import { CanceledError, UnavailableError, errorMessage } from '../../common/errors.ts';
import { grpcCode } from '../../common/grpc-status.ts';
import type { Logger } from '../../common/logger.ts';
import type { Tensor } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import type { EvaluateItem } from '../../common/proto/generated/propeller/v1/EvaluateItem.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

/** One model evaluation the coordinator needs. */
export interface EvalItem {
  /** Latent window [C, F, H, W]. */
  sample: Float32Array;
  shape: readonly number[];
  timestep: number;
  /** Class weights [K], when the model takes them. */
  classWeights?: Float32Array;
}

export interface EvaluateOptions {
  jobId?: string;
  signal?: AbortSignal;
  /** Called after each finished micro-batch with its item count. */
  onBatchDone?: (items: number) => void;
}

/** The port the sampling code talks to: evaluations spread over workers. */
export interface WorkerPool {
  evaluate(model: string, items: readonly EvalItem[], opts?: EvaluateOptions): Promise<Float32Array[]>;
  /** Latent frames [N, C, h, w] -> RGB frames [N, 3, H, W] (uint8, planar) through the model's decoder. */
  decode(model: string, latents: Float32Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Uint8Array; shape: number[] }>;
  /** RGB frames [N, 3, H, W] (uint8, planar) -> latent frames [N, C, h, w] through the model's encoder. */
  encode(model: string, frames: Uint8Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Float32Array; shape: number[] }>;
}

export interface DispatcherOptions {
  /** Dtype of latents on the wire. */
  wireDtype: 'float16' | 'float32';
  /** Micro-batches in flight per worker at once (overlaps transfer and compute). */
  maxInFlightPerWorker: number;
  /** Deadline of one Evaluate call. */
  batchTimeoutMs: number;
  /** Attempts per item before the whole evaluation fails. */
  maxAttempts: number;
  /** How long an evaluation waits for a serving worker before failing. */
  noWorkerTimeoutMs: number;
  log: Logger;
}

interface Pending {
  model: string;
  items: readonly EvalItem[];
  results: (Float32Array | undefined)[];
  queue: number[];
  attempts: Int32Array;
  remaining: number;
  opts: EvaluateOptions;
  lastError: string;
  waitingSince: number | undefined;
  resolve: (r: Float32Array[]) => void;
  reject: (e: unknown) => void;
  done: boolean;
  unhook?: () => void;
}

/**
 * Spreads evaluations over the registry's serving workers. Each request's
 * items wait in a queue; whenever a worker has a free slot it takes the next
 * micro-batch, round-robin across concurrent requests, so jobs share the
 * workers fairly. A failed batch goes back to the queue and is retried on
 * whichever worker is free next (evaluations are pure: a duplicate is
 * harmless); a worker that keeps failing is marked dead by the registry.
 */
export class Dispatcher implements WorkerPool {
  private readonly active: Pending[] = [];
  private rr = 0;
  private readonly noWorkerTimer: NodeJS.Timeout;
  /** Bytes sent and received as tensors, for metrics. */
  readonly wire = { sentBytes: 0, receivedBytes: 0, retries: 0 };

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly opts: DispatcherOptions,
  ) {
    registry.onChange(() => this.pump());
    this.noWorkerTimer = setInterval(() => this.expireWaiting(), 250);
    this.noWorkerTimer.unref();
  }

  evaluate(model: string, items: readonly EvalItem[], opts: EvaluateOptions = {}): Promise<Float32Array[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(opts.signal.reason ?? new CanceledError());
        return;
      }
      const p: Pending = {
        model,
        items,
        results: new Array(items.length),
        queue: items.map((_, i) => i),
        attempts: new Int32Array(items.length),
        remaining: items.length,
        opts,
        lastError: '',
        waitingSince: undefined,
        resolve,
        reject,
        done: false,
      };
      const onAbort = () => this.finish(p, opts.signal?.reason ?? new CanceledError());
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // One job makes thousands of calls with the same signal: unhook when done.
      p.unhook = () => opts.signal?.removeEventListener('abort', onAbort);
      this.active.push(p);
      this.pump();
    });
  }

  decode(model: string, latents: Float32Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Uint8Array; shape: number[] }> {
    return this.onAnyWorker('decode', model, signal, async (w) => {
      const res = await w.client.decode({ model, latents: encodeTensor(latents, shape, 'float32') }, this.opts.batchTimeoutMs, signal);
      const frames = res.frames;
      if (!frames || frames.dtype !== 'uint8') throw new Error('worker returned no uint8 frames');
      return { data: new Uint8Array(frames.data.buffer, frames.data.byteOffset, frames.data.byteLength), shape: frames.shape.map(Number) };
    });
  }

  encode(model: string, frames: Uint8Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Float32Array; shape: number[] }> {
    return this.onAnyWorker('encode', model, signal, async (w) => {
      const res = await w.client.encode({ model, frames: encodeUint8Tensor(frames, shape) }, this.opts.batchTimeoutMs, signal);
      const latents = decodeTensor(res.latents, 'latents');
      if (latents.shape.length !== 4 || latents.shape[0] !== shape[0]) throw new Error(`worker returned latents of shape ${latents.shape.join('x')} for ${shape[0]} frames`);
      if (!allFinite(latents.data)) throw new Error('worker returned latents with NaN or Inf');
      return { data: latents.data, shape: latents.shape };
    });
  }

  /**
   * Runs one VAE call on the least busy serving worker, retrying on another
   * one when it fails (VAE calls are pure, so a retry is harmless), and
   * waiting up to `noWorkerTimeoutMs` for a serving worker.
   */
  private async onAnyWorker<T>(what: 'decode' | 'encode', model: string, signal: AbortSignal | undefined, run: (w: WorkerEntry) => Promise<T>): Promise<T> {
    let lastError = '';
    const deadline = Date.now() + this.opts.noWorkerTimeoutMs;
    for (let attempt = 0; attempt < this.opts.maxAttempts; ) {
      signal?.throwIfAborted();
      const candidates = this.registry.serving(model).sort((a, b) => a.inFlight - b.inFlight);
      const w = candidates[0];
      if (!w) {
        if (Date.now() > deadline) throw new UnavailableError(`no serving worker has model "${model}"${lastError ? ` (last error: ${lastError})` : ''}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      attempt++;
      w.inFlight++;
      try {
        return await run(w);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        lastError = `worker ${w.address}: ${errorMessage(err)}`;
        this.registry.failed(w, err, grpcCode(err) === grpc.status.UNAVAILABLE);
        this.opts.log.warn(`${what} failed, will retry`, { error: lastError });
      } finally {
        w.inFlight--;
      }
    }
    throw new Error(`${what} failed after ${this.opts.maxAttempts} attempts; last error: ${lastError}`);
  }

  close(): void {
    clearInterval(this.noWorkerTimer);
    for (const p of [...this.active]) this.finish(p, new UnavailableError('coordinator is shutting down'));
  }

  /** Hands micro-batches to every worker with a free slot. */
  private pump(): void {
    let assigned = true;
    while (assigned) {
      assigned = false;
      for (const w of this.registry.serving()) {
        if (w.inFlight >= this.opts.maxInFlightPerWorker) continue;
        const p = this.nextFor(w);
        if (!p) continue;
        const batch = p.queue.splice(0, this.batchSize(w, p));
        this.send(w, p, batch);
        assigned = true;
      }
    }
    const now = Date.now();
    for (const p of this.active) {
      if (p.queue.length > 0 && this.registry.serving(p.model).length === 0) p.waitingSince ??= now;
      else p.waitingSince = undefined;
    }
  }

  /** Next request (round-robin) with queued items this worker can serve. */
  private nextFor(w: WorkerEntry): Pending | undefined {
    for (let k = 0; k < this.active.length; k++) {
      const p = this.active[(this.rr + k) % this.active.length]!;
      if (p.queue.length > 0 && w.models.has(p.model)) {
        this.rr = (this.rr + k + 1) % Math.max(1, this.active.length);
        return p;
      }
    }
    return undefined;
  }

  /** Items per micro-batch: the worker's max batch, kept under its message limit. */
  private batchSize(w: WorkerEntry, p: Pending): number {
    const first = p.items[p.queue[0]!]!;
    const bytesPerItem = first.sample.length * (this.opts.wireDtype === 'float16' ? 2 : 4) + 256;
    const byBytes = Math.max(1, Math.floor((w.maxMessageBytes * 0.9) / bytesPerItem));
    // Spread a round's items over all serving workers rather than filling the first.
    const workers = Math.max(1, this.registry.serving(p.model).length);
    const fair = Math.ceil(p.queue.length / (workers * this.opts.maxInFlightPerWorker));
    return Math.max(1, Math.min(w.maxBatch, byBytes, fair));
  }

  private send(w: WorkerEntry, p: Pending, batch: number[]): void {
    w.inFlight++;
    const started = performance.now();
    const items: EvaluateItem[] = batch.map((i) => {
      const it = p.items[i]!;
      const sample = encodeTensor(it.sample, it.shape, this.opts.wireDtype);
      this.wire.sentBytes += (sample.data as Buffer).length;
      const conditioning: Record<string, Tensor> = {};
      if (it.classWeights) conditioning['class_weights'] = encodeTensor(it.classWeights, [it.classWeights.length], 'float32');
      return { sample, timestep: it.timestep, conditioning };
    });
    w.client
      .evaluate({ model: p.model, items, outputDtype: this.opts.wireDtype, jobId: p.opts.jobId ?? '' }, this.opts.batchTimeoutMs, p.opts.signal)
      .then((res) => {
        if (res.outputs.length !== batch.length) throw new Error(`worker returned ${res.outputs.length} outputs for ${batch.length} items`);
        const outs = res.outputs.map((t, j) => {
          this.wire.receivedBytes += t.data.length;
          const host = decodeTensor(t, `outputs[${j}]`);
          if (host.data.length !== p.items[batch[j]!]!.sample.length) throw new Error(`worker output ${j} has ${host.data.length} elements`);
          if (!allFinite(host.data)) throw new Error(`worker output ${j} contains NaN or Inf`);
          return host.data;
        });
        return outs;
      })
      .then(
        (outs) => {
          w.inFlight--;
          this.registry.succeeded(w, batch.length, (performance.now() - started) / 1000);
          if (!p.done) {
            batch.forEach((i, j) => {
              if (p.results[i] === undefined) {
                p.results[i] = outs[j];
                p.remaining--;
              }
            });
            p.opts.onBatchDone?.(batch.length);
            if (p.remaining === 0) this.finish(p);
          }
          this.pump();
        },
        (err: unknown) => {
          w.inFlight--;
          if (p.done || p.opts.signal?.aborted) {
            this.pump();
            return;
          }
          const code = grpcCode(err);
          const msg = `worker ${w.address}: ${errorMessage(err)}`;
          p.lastError = msg;
          this.opts.log.warn('batch failed, will retry', { job: p.opts.jobId, items: batch.length, error: msg });
          // Connection-level failures and drains take the worker out at once.
          this.registry.failed(w, err, code === grpc.status.UNAVAILABLE);
          this.wire.retries++;
          for (const i of batch) {
            p.attempts[i]!++;
            if (p.attempts[i]! >= this.opts.maxAttempts) {
              this.finish(p, new Error(`evaluation failed after ${p.attempts[i]} attempts; last error: ${msg}`));
              this.pump();
              return;
            }
          }
          p.queue.unshift(...batch);
          this.pump();
        },
      );
  }

  private expireWaiting(): void {
    const now = Date.now();
    for (const p of [...this.active]) {
      if (p.waitingSince !== undefined && now - p.waitingSince > this.opts.noWorkerTimeoutMs) {
        const why = p.lastError ? ` (last error: ${p.lastError})` : '';
        this.finish(p, new UnavailableError(`no serving worker has model "${p.model}"${why}`));
      }
    }
  }

  private finish(p: Pending, err?: unknown): void {
    if (p.done) return;
    p.done = true;
    p.unhook?.();
    const idx = this.active.indexOf(p);
    if (idx >= 0) this.active.splice(idx, 1);
    if (err) p.reject(err);
    else p.resolve(p.results as Float32Array[]);
  }
}
