import { encodeTensor, encodeUint8Tensor, decodeTensor, decodeTensorInto, allFinite } from '../../common/tensor-codec.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import { CanceledError, UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { Tensor } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import type { EvaluateItem } from '../../common/proto/generated/propeller/v1/EvaluateItem.ts';
import { EvalRequest, type EvalItem, type EvaluateOptions, type InFlightBatch } from './eval-request.ts';
import { FairShare } from './fair-share.ts';
import { DEFAULT_STRAGGLER_POLICY, pickStraggler, stragglerAfterMs, type StragglerPolicy } from './stragglers.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

export type { EvalItem, EvaluateOptions } from './eval-request.ts';

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
  /** Failed copies per item before the whole evaluation fails. */
  maxAttempts: number;
  /** How long an evaluation waits for a serving worker before failing. */
  noWorkerTimeoutMs: number;
  /** When a slow batch is duplicated on an idle worker (default: 3x the usual latency, at least 2 s). */
  stragglers?: StragglerPolicy;
  log: Logger;
}

/** Some of one request's items in a micro-batch. */
interface Segment {
  p: EvalRequest;
  items: number[];
}

/** Sort key of a worker by speed: unmeasured first (-1), then seconds per item. */
function perItemOrder(w: WorkerEntry): number {
  return w.secondsPerItem ?? -1;
}

/** How much sooner another worker must be expected to finish a batch to be preferred (or to duplicate it early): 25 %. */
const FASTER_MARGIN = 0.25;

/** Spare float16 sample buffers kept per size (a round of 64 points, and its duplicates). */
const MAX_SPARE_HALVES = 128;

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
 * registry takes failing, stuck or draining workers out. When a request has
 * nothing queued and a worker is idle, the most overdue batch in flight is
 * duplicated there and the first answer wins (stragglers). Outputs do not
 * depend on which worker answered or how items were batched.
 */
export class Dispatcher implements WorkerPool {
  private readonly active: EvalRequest[] = [];
  private readonly share = new FairShare();
  private rr = 0;
  private pumpScheduled = false;
  private readonly ticker: NodeJS.Timeout;
  private readonly stragglers: StragglerPolicy;
  /**
   * Float16 sample buffers of settled calls, by byte size, reused by the
   * next calls (a Picard round sends one latent-sized buffer per point;
   * fresh ones were garbage within a round).
   */
  private readonly spareHalves = new Map<number, Buffer[]>();
  /** Calls in flight per worker (start and items), for its expected time to finish them. */
  private readonly flying = new Map<WorkerEntry, Set<{ startedMs: number; items: number }>>();
  /** Bytes sent and received as tensors, retried and duplicated batches, for metrics. */
  readonly wire = { sentBytes: 0, receivedBytes: 0, retries: 0, duplicates: 0 };

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly opts: DispatcherOptions,
  ) {
    this.stragglers = opts.stragglers ?? DEFAULT_STRAGGLER_POLICY;
    registry.onChange(() => this.pump());
    // Stragglers and the no-worker timeout are about time passing, not events.
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  evaluate(model: string, items: readonly EvalItem[], opts: EvaluateOptions = {}): Promise<Float32Array[]> {
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
      p.unhook = () => opts.signal?.removeEventListener('abort', onAbort);
      this.share.join(p.shareKey);
      this.active.push(p);
      this.schedulePump();
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
    const tried = new Set<string>();
    const deadline = Date.now() + this.opts.noWorkerTimeoutMs;
    for (let attempt = 0; attempt < this.opts.maxAttempts; ) {
      signal?.throwIfAborted();
      // Workers not tried yet first, then the least busy.
      const candidates = this.registry.serving(model).sort((a, b) => Number(tried.has(a.address)) - Number(tried.has(b.address)) || a.inFlight - b.inFlight);
      const w = candidates[0];
      if (!w) {
        if (Date.now() > deadline) throw new UnavailableError(`no serving worker has model "${model}"${lastError ? ` (last error: ${lastError})` : ''}`);
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
        if (this.fasterElsewhere(w, p.model, this.batchSize(w, p))) continue;
        const segments = this.assemble(w, p);
        if (segments.length === 0) continue;
        this.send(w, segments, false);
        assigned = true;
      }
    }
    this.hedge();
    const now = Date.now();
    for (const p of this.active) {
      if (p.queue.length > 0 && this.registry.serving(p.model).length === 0) p.waitingSince ??= now;
      else p.waitingSince = undefined;
    }
  }

  /**
   * The request with work this worker may take whose job was charged least;
   * ties between jobs go round-robin, and within a job the oldest request
   * goes first. Requests of speculative work (Picard points past the
   * converged one) come only when no necessary work waits for `w`, so one
   * job's speculation never delays another job's steps. The composite denoiser submits a round as calls in plan
   * order and merges them in that order: spreading one job's batches
   * round-robin over its calls held every call open until the round's last
   * batch, so the whole merge waited for the end of the round (at 32
   * simulated workers, 7 calls merged back to back after the last reply).
   */
  private nextFor(w: WorkerEntry): EvalRequest | undefined {
    let best: EvalRequest | undefined;
    let bestAt = 0;
    const n = this.active.length;
    for (let k = 0; k < n; k++) {
      const at = (this.rr + k) % n;
      const p = this.active[at]!;
      if (p.queue.length === 0 || !w.models.has(p.model)) continue;
      if (!p.hasWorkFor(w.address, this.servingAddresses(p.model))) continue;
      if (!best || this.before(p, at, best, bestAt)) {
        best = p;
        bestAt = at;
      }
    }
    if (best) this.rr = (bestAt + 1) % Math.max(1, n);
    return best;
  }

  /** Whether `p` (at `at` in the active list) goes before `q`: necessary work first, then the job charged least, then the oldest request. */
  private before(p: EvalRequest, at: number, q: EvalRequest, qAt: number): boolean {
    const ps = p.opts.speculative === true;
    if (ps !== (q.opts.speculative === true)) return !ps;
    const pc = this.share.of(p.shareKey);
    const qc = this.share.of(q.shareKey);
    return pc < qc || (p.shareKey === q.shareKey && at < qAt);
  }

  /**
   * One micro-batch for `w`, starting with `first`'s items and topped up from
   * other requests for the same model (the composite denoiser submits a
   * round as several requests; cutting batches at request boundaries left
   * small remainder batches that unbalanced the workers). Every item of a
   * model has the model's native shape, so any of them batch together.
   */
  private assemble(w: WorkerEntry, first: EvalRequest): Segment[] {
    const size = this.batchSize(w, first);
    const segments: Segment[] = [];
    let taken = 0;
    const takeFrom = (p: EvalRequest): void => {
      const items = p.take(w.address, size - taken, this.servingAddresses(p.model));
      if (items.length === 0) return;
      segments.push({ p, items });
      taken += items.length;
    };
    takeFrom(first);
    for (const p of this.active) {
      if (taken >= size) break;
      if (p === first || p.model !== first.model || p.queue.length === 0) continue;
      // A batch of necessary work takes no speculative items: they would lengthen it.
      if (p.opts.speculative && !first.opts.speculative) continue;
      takeFrom(p);
    }
    return segments;
  }

  /** Items per micro-batch: the worker's max batch, kept under its message limit. */
  private batchSize(w: WorkerEntry, p: EvalRequest): number {
    const first = p.items[p.queue[0]!]!;
    const bytesPerItem = first.sample.length * (this.opts.wireDtype === 'float16' ? 2 : 4) + 256;
    const byBytes = Math.max(1, Math.floor((w.maxMessageBytes * 0.9) / bytesPerItem));
    // Balanced batches sized from the model's whole backlog — every active
    // request for it, counted whole, not what is left of their queues (that
    // halved the batches as a round drained: mean 7 of 16 at one worker in
    // bench cluster) — the fewest rounds of equal batches that give every
    // serving worker work. A round's windows arrive as several requests; one
    // of them alone would make batches too small to amortise a GPU's
    // per-batch cost.
    const serving = this.registry.serving(p.model);
    const workers = Math.max(1, serving.length);
    const cap = Math.max(1, Math.min(w.maxBatch, byBytes));
    let n = 0;
    let queued = 0;
    let live = 0;
    for (const a of this.active) {
      if (a.model !== p.model) continue;
      n += a.items.length;
      queued += a.queue.length;
      live += a.remaining;
    }
    const rounds = Math.ceil(n / (workers * cap));
    const depth = this.opts.maxInFlightPerWorker;
    if (rounds >= depth) return Math.max(1, Math.min(cap, Math.ceil(n / (workers * rounds))));
    // The backlog fits in fewer batches per worker than it may have in
    // flight: split each worker's share over its free slots, so the second
    // batch travels while the first computes, and the first's results come
    // back (and are merged) while the second computes. One batch per worker
    // left both transfers on every round's critical path (at 32 simulated
    // workers, calls took 2.5-3.2 s for 2.05 s of modelled GPU time). Sizes
    // are ceil(queued / free slots) at each pick: larger batches first, and
    // every worker's share within one item of the others'. When work arrives
    // while most slots are taken (a pipelined sampler's next step), no batch
    // is larger than an even share of the work still out over all slots: a
    // few free workers must not take the whole queue and hold it for seconds.
    let free = 0;
    for (const s of serving) free += Math.max(0, depth - s.inFlight);
    const even = Math.ceil(live / (workers * depth));
    return Math.max(1, Math.min(cap, even, Math.ceil(queued / Math.max(1, free))));
  }

  private servingAddresses(model: string): string[] {
    return this.registry.serving(model).map((e) => e.address);
  }

  /**
   * Milliseconds `w` still needs for its calls in flight, from its seconds
   * per item (0 when unknown); undefined when it is full and one of them is
   * long overdue (a stuck or stalled worker is no place to wait for).
   */
  private remainingMs(w: WorkerEntry, now: number): number | undefined {
    const spi = w.secondsPerItem;
    if (spi === undefined) return 0;
    let left = 0;
    let overdue = false;
    for (const f of this.flying.get(w) ?? []) {
      const expected = f.items * spi * 1000;
      left += Math.max(0, f.startedMs + expected - now);
      if (now - f.startedMs > 2 * expected + 1_000) overdue = true;
    }
    return overdue && w.inFlight >= this.opts.maxInFlightPerWorker ? undefined : left;
  }

  /**
   * Whether another serving worker of `model` would finish a batch of
   * `items` clearly sooner than `w` (its calls in flight, then the batch at
   * its measured seconds per item): a worker behind a slow link, or a slower
   * GPU, then gets only what the faster ones cannot take in time, instead
   * of an even share that every step waits for. Workers not measured yet
   * are never passed over (they are how they get measured).
   */
  private fasterElsewhere(w: WorkerEntry, model: string, items: number): boolean {
    const spi = w.secondsPerItem;
    if (spi === undefined) return false;
    const now = performance.now();
    const mine = this.remainingMs(w, now);
    if (mine === undefined) return false;
    const finish = mine + items * spi * 1000;
    for (const v of this.registry.serving(model)) {
      if (v === w || v.secondsPerItem === undefined) continue;
      const ahead = this.remainingMs(v, now);
      if (ahead === undefined) continue;
      if ((ahead + items * v.secondsPerItem * 1000) * (1 + FASTER_MARGIN) < finish) return true;
    }
    return false;
  }

  /**
   * Stragglers: for each idle worker, when some request has nothing queued,
   * duplicate a batch there: early, when the idle worker would finish it
   * clearly before the worker it is on is expected to (measured seconds per
   * item: a slow link); otherwise its most overdue batch past the usual
   * latency. At most one duplicate per batch.
   */
  private hedge(): void {
    if (this.active.length === 0) return;
    const now = performance.now();
    for (const w of this.registry.serving()) {
      if (w.inFlight > 0) continue;
      const candidates: { p: EvalRequest; b: InFlightBatch; startedMs: number; hedged: boolean }[] = [];
      for (const p of this.active) {
        if (p.queue.length > 0 || !w.models.has(p.model)) continue;
        for (const b of p.inFlight) if (b.worker !== w) candidates.push({ p, b, startedMs: b.startedMs, hedged: b.hedged });
      }
      const pick = this.earlyStraggler(w, candidates, now) ?? pickStraggler(candidates, now, (c) => stragglerAfterMs(this.registry.typicalCallSeconds(c.b.worker), this.stragglers));
      if (!pick) continue;
      const items = pick.b.items.filter((i) => pick.p.results[i] === undefined);
      pick.b.hedged = true;
      if (items.length === 0) continue;
      this.wire.duplicates++;
      this.opts.log.info('straggler: duplicating a slow batch on an idle worker', {
        job: pick.p.opts.jobId,
        items: items.length,
        slow: pick.b.worker.address,
        idle: w.address,
        elapsedMs: Math.round(now - pick.b.startedMs),
      });
      this.send(w, [{ p: pick.p, items }], true);
    }
  }

  /**
   * The batch idle `w` should duplicate now, if any (both workers measured):
   * one `w` would finish clearly before its own worker is expected to (a
   * slower worker), or one overdue on its worker — past twice its expected
   * time and 100 ms, a worker that just slowed down (its link) — that `w`
   * would finish in less time than it has already taken. The largest gain first.
   */
  private earlyStraggler<C extends { b: InFlightBatch; hedged: boolean }>(w: WorkerEntry, candidates: C[], now: number): C | undefined {
    const spi = w.secondsPerItem;
    if (spi === undefined) return undefined;
    let best: C | undefined;
    let bestGain = 0;
    for (const c of candidates) {
      const other = c.b.worker.secondsPerItem;
      if (c.hedged || other === undefined) continue;
      const n = c.b.items.length;
      const expected = n * other * 1000;
      const mine = n * spi * 1000 * (1 + FASTER_MARGIN);
      const elapsed = now - c.b.startedMs;
      let gain = 0;
      if (expected - elapsed > mine) gain = expected - elapsed - mine;
      else if (elapsed > 2 * expected + 100 && elapsed > mine) gain = elapsed - mine;
      if (gain > bestGain) {
        best = c;
        bestGain = gain;
      }
    }
    return best;
  }

  /** Sends one micro-batch (one or more requests' items) to `w` as one Evaluate call. */
  private send(w: WorkerEntry, segments: Segment[], duplicate: boolean): void {
    const startedMs = performance.now();
    const flyingEntry = { startedMs, items: segments.reduce((n, s) => n + s.items.length, 0) };
    const flyingSet = this.flying.get(w) ?? new Set();
    flyingSet.add(flyingEntry);
    this.flying.set(w, flyingSet);
    const flights = segments.map(({ p, items }) => {
      const flight: InFlightBatch = { worker: w, items, startedMs, hedged: duplicate };
      p.inFlight.add(flight);
      for (const i of items) p.copies[i]!++;
      this.share.charge(p.shareKey, items.length);
      return flight;
    });
    this.registry.began(w);
    w.inTransit++;
    let inTransit = true;
    const received = () => {
      if (!inTransit) return;
      inTransit = false;
      w.inTransit--;
    };
    const items: EvaluateItem[] = [];
    const lengths: number[] = [];
    // The samples' wire buffers, reusable once the call has settled (grpc-js has serialized them long before).
    const sent: Buffer[] = [];
    for (const { p, items: batch } of segments) {
      for (const i of batch) {
        const it = p.items[i]!;
        lengths.push(it.sample.length);
        const halves = this.opts.wireDtype === 'float16' ? this.spareHalves.get(it.sample.length * 2)?.pop() : undefined;
        const sample = encodeTensor(it.sample, it.shape, this.opts.wireDtype, halves);
        if (this.opts.wireDtype === 'float16') sent.push(sample.data as Buffer);
        this.wire.sentBytes += (sample.data as Buffer).length;
        const conditioning: Record<string, Tensor> = {};
        if (it.classWeights) conditioning['class_weights'] = encodeTensor(it.classWeights, [it.classWeights.length], 'float32');
        // Extra conditioning formed per window (coordinator/conditioning): embeddings, time ids, image latents, guidance.
        for (const [key, t] of Object.entries(it.conditioning ?? {})) conditioning[key] = encodeTensor(t.data, t.shape, this.opts.wireDtype);
        items.push({ sample, timestep: it.timestep, conditioning });
      }
    }
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
      const live = segments.filter(({ p }) => !p.done && !p.opts.signal?.aborted);
      if (live.length === 0) {
        this.pump();
        return;
      }
      const msg = `worker ${w.address}: ${errorMessage(err)}`;
      this.registry.failed(w, err);
      // One line per failed call (a call may carry several requests' items).
      const retried = live.filter(({ p, items: batch }) => !batch.every((i) => p.results[i] !== undefined));
      if (retried.length > 0) {
        this.wire.retries++;
        const jobs = [...new Set(retried.map(({ p }) => p.opts.jobId ?? ''))].filter(Boolean).join(',');
        this.opts.log.warn('batch failed, will retry', { job: jobs, items: retried.reduce((n, s) => n + s.items.length, 0), error: msg });
      }
      for (const { p, items: batch } of retried) {
        p.lastError = msg;
        const exhausted = p.requeue(batch, w.address, this.opts.maxAttempts);
        if (exhausted !== undefined) this.finish(p, new Error(`evaluation failed after ${p.attempts[exhausted]} attempts; last error: ${msg}`));
      }
      this.pump();
    };
    const landed = () => {
      received();
      flyingSet.delete(flyingEntry);
      if (flyingSet.size === 0) this.flying.delete(w);
      for (const b of sent) {
        const list = this.spareHalves.get(b.byteLength) ?? [];
        if (list.length < MAX_SPARE_HALVES) list.push(b);
        this.spareHalves.set(b.byteLength, list);
      }
      sent.length = 0;
      segments.forEach(({ p, items: batch }, k) => {
        p.inFlight.delete(flights[k]!);
        for (const i of batch) p.copies[i]!--;
      });
      this.registry.ended(w);
    };
    w.client
      .evaluate({ model, items, outputDtype: this.opts.wireDtype, jobId }, this.opts.batchTimeoutMs, signal, () => {
        w.confirmsReceipt = true;
        received();
        this.schedulePump();
      })
      .then(
        (res) => {
          // Decoded and filled in one go: no other answer for these items can land in between.
          let outs: Float32Array[];
          try {
            outs = this.decodeOutputs(res, segments, lengths);
          } catch (err) {
            failed(err);
            return;
          }
          landed();
          this.registry.succeeded(w, total, (performance.now() - startedMs) / 1000);
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

  /**
   * A call's outputs as floats, aligned with its items. The first answer for
   * an item that brought its own `output` array is decoded into it; others
   * (later copies, items without one) into fresh arrays the caller may reuse
   * (handOver). The finite check rides along the float16 conversion.
   */
  private decodeOutputs(res: EvaluateResponse__Output, segments: Segment[], lengths: number[]): Float32Array[] {
    if (res.outputs.length !== lengths.length) throw new Error(`worker returned ${res.outputs.length} outputs for ${lengths.length} items`);
    const outs: Float32Array[] = new Array(lengths.length);
    let j = 0;
    for (const { p, items: batch } of segments) {
      for (const i of batch) {
        const t = res.outputs[j]!;
        this.wire.receivedBytes += t.data.length;
        const into = p.items[i]!.output;
        if (into && !p.done && p.results[i] === undefined && into.length === lengths[j]) {
          decodeTensorInto(t, `worker output ${j}`, into, { requireFinite: true });
          outs[j] = into;
        } else {
          const host = decodeTensor(t, `worker output ${j}`, { requireFinite: true, handOver: true });
          if (host.data.length !== lengths[j]) throw new Error(`worker output ${j} has ${host.data.length} elements`);
          outs[j] = host.data;
        }
        j++;
      }
    }
    return outs;
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

  private finish(p: EvalRequest, err?: unknown): void {
    if (p.done) return;
    p.done = true;
    p.unhook?.();
    const idx = this.active.indexOf(p);
    if (idx >= 0) this.active.splice(idx, 1);
    this.share.retain(new Set(this.active.map((a) => a.shareKey)));
    if (err) p.reject(err);
    else p.resolve(p.results as Float32Array[]);
  }
}
