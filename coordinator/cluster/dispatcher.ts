import { CanceledError, UnavailableError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { batchCap, batchSize } from './batch-size.ts';
import { MONOTONIC_CLOCK, type Clock } from './clock.ts';
import { EvalRequest, type EvaluateOptions, type InFlightBatch } from './eval-request.ts';
import type { WindowWork } from '../layout/window-work.ts';
import { FairShare } from './fair-share.ts';
import { duplicateFor } from './hedging.ts';
import { assembleBatch, nextRequest } from './request-order.ts';
import { Pace, perItemOrder } from './pace.ts';
import { Retries } from './retries.ts';
import { DEFAULT_STRAGGLER_POLICY, stragglerAfterMs, type StragglerPolicy } from './stragglers.ts';
import { VaeCalls } from './vae-calls.ts';
import { WireBatches, type Segment } from './wire-batch.ts';
import type { WorkerPool } from './worker-pool.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

export type { EvaluateOptions } from './eval-request.ts';
export type { WindowWork } from '../layout/window-work.ts';

export interface DispatcherOptions {
  /** Dtype of latents on the wire. */
  wireDtype: 'float16' | 'float32';
  /** Micro-batches in flight per worker at once (overlaps transfer and compute). */
  maxInFlightPerWorker: number;
  /** Deadline of one Evaluate call. */
  batchTimeoutMs: number;
  /** Failed copies per item before the whole evaluation fails. */
  maxAttempts: number;
  /** How long an evaluation waits for a serving worker before failing. */
  noWorkerTimeoutMs: number;
  /** When a slow batch is duplicated on an idle worker (default: 3x the usual latency, at least 2 s). */
  stragglers?: StragglerPolicy;
  /** What calls, stragglers and waits are timed with (default: the monotonic clock; unit tests pass a virtual one, clock.ts). */
  clock?: Clock;
  log: Logger;
}

/** How often waiting requests and stragglers are checked, ms. */
const TICK_MS = 200;

/**
 * Spreads evaluations over the registry's serving workers.
 *
 * Each `evaluate()` call becomes an {@link EvalRequest} whose items wait in a
 * queue. Whenever a worker has a free slot it takes a micro-batch from the
 * job charged least so far (fair sharing by items, see fair-share.ts). A
 * failed or timed-out batch goes back to the queue and is retried on
 * another worker (evaluations are pure: a duplicate is harmless); the
 * registry takes failing, stuck or draining workers out (retries.ts). When a
 * request has nothing queued and a worker is idle, a slow batch in flight is
 * duplicated there and the first answer wins (hedging.ts). Outputs do not
 * depend on which worker answered or how items were batched. Worker state is
 * the registry's to write and a request's the request's: the dispatcher
 * tells them what happened through their methods.
 */
export class Dispatcher implements WorkerPool {
  private readonly active: EvalRequest[] = [];
  private readonly share = new FairShare();
  private rr = 0;
  private pumpScheduled = false;
  private readonly ticker: NodeJS.Timeout;
  private readonly stragglers: StragglerPolicy;
  private readonly clock: Clock;
  /** Bytes sent and received as tensors, retried and duplicated batches, for metrics. */
  readonly wire = { sentBytes: 0, receivedBytes: 0, retries: 0, duplicates: 0 };
  /** Encoding a batch and decoding its reply (wire-batch.ts). */
  private readonly batches: WireBatches;
  /** Workers' measured pace and calls in flight (pace.ts). */
  private readonly pace: Pace;
  private readonly vae: VaeCalls;
  private readonly retries: Retries;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly opts: DispatcherOptions,
  ) {
    this.stragglers = opts.stragglers ?? DEFAULT_STRAGGLER_POLICY;
    this.clock = opts.clock ?? MONOTONIC_CLOCK;
    this.batches = new WireBatches(opts.wireDtype, this.wire);
    this.pace = new Pace(registry, opts.maxInFlightPerWorker, this.clock);
    this.vae = new VaeCalls(registry, { ...opts, clock: this.clock });
    this.retries = new Retries(registry, opts, this.wire, (p, err) => this.finish(p, err));
    registry.onChange(() => this.pump());
    // Stragglers and the no-worker timeout are about time passing, not events.
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  evaluate(model: string, items: readonly WindowWork[], opts: EvaluateOptions = {}): Promise<Float32Array[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(opts.signal.reason ?? new CanceledError());
        return;
      }
      const p = new EvalRequest(model, items, opts, resolve, reject);
      const onAbort = () => this.finish(p, opts.signal?.reason ?? new CanceledError());
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // One job makes thousands of calls with the same signal: unhook when done.
      p.onSettle(() => opts.signal?.removeEventListener('abort', onAbort));
      this.share.join(p.shareKey);
      this.active.push(p);
      this.schedulePump();
    });
  }

  decode(model: string, latents: Float32Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Uint8Array; shape: number[] }> {
    return this.vae.decode(model, latents, shape, signal);
  }

  encode(model: string, frames: Uint8Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Float32Array; shape: number[] }> {
    return this.vae.encode(model, frames, shape, signal);
  }

  /** Window evaluations waiting for a worker (not yet sent), by model: the metrics' backlog. */
  backlog(): Map<string, number> {
    const queued = new Map<string, number>();
    for (const p of this.active) queued.set(p.model, (queued.get(p.model) ?? 0) + p.queue.length);
    return queued;
  }

  close(): void {
    clearInterval(this.ticker);
    for (const p of [...this.active]) this.finish(p, new UnavailableError('coordinator is shutting down'));
  }

  private tick(): void {
    if (this.active.length === 0) return;
    this.expireWaiting();
    this.pump();
  }

  /**
   * Pumps once the current synchronous work is done: the composite denoiser
   * submits a round's calls in one burst, and sizing batches after the whole
   * burst is queued (not after its first call) keeps them large and even.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Hands micro-batches to every worker with a free slot, then duplicates stragglers on idle workers. */
  private pump(): void {
    // Least loaded first, so a burst of requests spreads one batch per worker
    // before any worker gets a second; among equally loaded ones, workers not
    // measured yet (to measure them), then the fastest per item: a step of
    // one window goes to the fastest idle GPU, not to whichever is listed first.
    const serving = [...this.registry.serving()].sort((a, b) => a.inFlight - b.inFlight || perItemOrder(a) - perItemOrder(b));
    let assigned = true;
    while (assigned) {
      assigned = false;
      for (const w of serving) {
        if (w.state !== 'serving' || w.inFlight >= this.opts.maxInFlightPerWorker) continue;
        // One batch on the wire per worker: two sent at once share the link
        // and both arrive late, so the worker's GPU starts later (and on the
        // smaller one first). The next goes when the worker confirms receipt.
        if (w.confirmsReceipt && w.inTransit > 0) continue;
        const p = this.nextFor(w);
        if (!p) continue;
        // Throughput-aware: leave the work to a worker that will finish it clearly sooner.
        const size = this.batchSize(w, p);
        if (this.pace.fasterElsewhere(w, p.model, size)) continue;
        const segments = assembleBatch(this.active, w, p, size, (model) => this.servingAddresses(model));
        if (segments.length === 0) continue;
        this.send(w, segments, false);
        assigned = true;
      }
    }
    this.hedge();
    const now = this.clock.now();
    for (const p of this.active) p.noteWaiting(now, this.registry.serving(p.model).length > 0);
  }

  /** The request `w` serves next (request-order.ts), moving the round-robin start past it. */
  private nextFor(w: WorkerEntry): EvalRequest | undefined {
    const next = nextRequest(this.active, w, this.rr, this.share, (model) => this.servingAddresses(model));
    if (next) this.rr = (next.at + 1) % Math.max(1, this.active.length);
    return next?.p;
  }

  /** Items per micro-batch for `w` from the model's backlog (batch-size.ts). */
  private batchSize(w: WorkerEntry, p: EvalRequest): number {
    const first = p.items[p.queue[0]!]!;
    const bytesPerItem = first.sample.length * (this.opts.wireDtype === 'float16' ? 2 : 4) + 256;
    const serving = this.registry.serving(p.model);
    const depth = this.opts.maxInFlightPerWorker;
    let items = 0;
    let queued = 0;
    let live = 0;
    for (const a of this.active) {
      if (a.model !== p.model) continue;
      items += a.items.length;
      queued += a.queue.length;
      live += a.remaining;
    }
    let freeSlots = 0;
    for (const s of serving) freeSlots += Math.max(0, depth - s.inFlight);
    return batchSize({ cap: batchCap(w.maxBatch, w.maxMessageBytes, bytesPerItem), workers: serving.length, depth, items, queued, live, freeSlots });
  }

  private servingAddresses(model: string): string[] {
    return this.registry.serving(model).map((e) => e.address);
  }

  /** Hedging: each idle worker duplicates the batch hedging.ts picks for it, if any. */
  private hedge(): void {
    if (this.active.length === 0) return;
    const now = this.clock.now();
    const threshold = (b: InFlightBatch) => stragglerAfterMs(this.registry.typicalCallSeconds(b.worker), this.stragglers);
    for (const w of this.registry.serving()) {
      const dup = duplicateFor(w, this.active, now, this.pace, threshold);
      if (!dup) continue;
      dup.p.hedged(dup.b);
      if (dup.items.length === 0) continue;
      this.wire.duplicates++;
      this.opts.log.info('straggler: duplicating a slow batch on an idle worker', {
        job: dup.p.opts.jobId,
        items: dup.items.length,
        slow: dup.b.worker.address,
        idle: w.address,
        elapsedMs: Math.round(now - dup.b.startedMs),
      });
      this.send(w, [{ p: dup.p, items: dup.items }], true);
    }
  }

  /** Sends one micro-batch (one or more requests' items) to `w` as one Evaluate call. */
  private send(w: WorkerEntry, segments: Segment[], duplicate: boolean): void {
    const startedMs = this.clock.now();
    const paced = this.pace.started(w, segments.reduce((n, s) => n + s.items.length, 0));
    const flights = segments.map(({ p, items }) => {
      const flight: InFlightBatch = { worker: w, items, startedMs, hedged: duplicate };
      p.sent(flight);
      this.share.charge(p.shareKey, items.length);
      return flight;
    });
    this.registry.began(w);
    this.registry.sending(w);
    let inTransit = true;
    const received = () => {
      if (!inTransit) return;
      inTransit = false;
      this.registry.delivered(w);
    };
    const { items, lengths, release } = this.batches.encode(segments);
    const model = segments[0]!.p.model;
    // For the worker's logs and metrics: the jobs in the batch (a few named, the rest counted).
    const jobs = [...new Set(segments.map((s) => s.p.opts.jobId ?? ''))].filter(Boolean);
    const jobId = jobs.length <= 8 ? jobs.join(',') : `${jobs.slice(0, 8).join(',')},+${jobs.length - 8} more`;
    // A call carrying one job's items ends with that job's cancel; a shared
    // call runs to the end and a canceled job's outputs are dropped.
    const signals = new Set(segments.map((s) => s.p.opts.signal));
    const signal = signals.size === 1 ? segments[0]!.p.opts.signal : undefined;
    const total = items.length;
    const failed = (err: unknown): void => {
      landed();
      this.retries.failed(w, segments, err);
      this.pump();
    };
    const landed = () => {
      received();
      paced();
      release();
      segments.forEach(({ p }, k) => p.landed(flights[k]!));
      this.registry.ended(w);
    };
    w.client
      .evaluate({ model, items, outputDtype: this.batches.outputDtype, jobId }, this.opts.batchTimeoutMs, signal, () => {
        this.registry.receiptConfirmed(w);
        received();
        this.schedulePump();
      })
      .then(
        (res) => {
          // Decoded and filled in one go: no other answer for these items can land in between.
          let outs: Float32Array[];
          try {
            outs = this.batches.decode(res, segments, lengths);
          } catch (err) {
            failed(err);
            return;
          }
          landed();
          this.registry.succeeded(w, total, (this.clock.now() - startedMs) / 1000);
          let offset = 0;
          for (const { p, items: batch } of segments) {
            const mine = outs.slice(offset, offset + batch.length);
            offset += batch.length;
            if (p.done) continue;
            // The first copy to answer wins; a later duplicate's outputs are the same numbers and are dropped.
            const fresh = p.fill(batch, mine);
            if (fresh > 0) p.opts.onBatchDone?.(fresh);
            if (p.remaining === 0) this.finish(p);
          }
          this.pump();
        },
        failed,
      );
  }

  private expireWaiting(): void {
    const now = this.clock.now();
    for (const p of [...this.active]) {
      if (p.waitingSince !== undefined && now - p.waitingSince > this.opts.noWorkerTimeoutMs) {
        const why = p.lastError ? ` (last error: ${p.lastError})` : '';
        this.finish(p, new UnavailableError(`no serving worker has model "${p.model}"${why}`));
      }
    }
  }

  private finish(p: EvalRequest, err?: unknown): void {
    if (p.done) return;
    const idx = this.active.indexOf(p);
    if (idx >= 0) this.active.splice(idx, 1);
    this.share.retain(new Set(this.active.map((a) => a.shareKey)));
    p.settle(err);
  }
}
