import type { WindowWork } from '../layout/window-work.ts';
import type { WorkerEntry } from './worker-registry.ts';

export interface EvaluateOptions {
  jobId?: string;
  signal?: AbortSignal;
  /**
   * Work that may be thrown away (a Picard point past the converged one):
   * handed out only when no request of necessary work waits for the worker,
   * and never batched with such work, so it never delays another job.
   */
  speculative?: boolean;
  /** Called after each finished micro-batch with the number of items it completed (duplicates not counted). */
  onBatchDone?: (items: number) => void;
}

/** One copy of a micro-batch on one worker. */
export interface InFlightBatch {
  readonly worker: WorkerEntry;
  readonly items: readonly number[];
  /** performance.now() when it was sent. */
  readonly startedMs: number;
  /** A duplicate was sent for it (or it is one): never duplicated again. */
  hedged: boolean;
}

/**
 * One `evaluate()` call in progress: which items wait in the queue, which
 * are in flight (possibly twice: a retry or a straggler's duplicate), which
 * are done, and on which workers each item failed (a retry goes elsewhere
 * when it can).
 */
export class EvalRequest {
  readonly results: (Float32Array | undefined)[];
  /** Item indices waiting for a worker, retries first. */
  readonly queue: number[];
  /** Failed copies per item. */
  readonly attempts: Int32Array;
  /** Copies in flight per item. */
  readonly copies: Int32Array;
  readonly inFlight = new Set<InFlightBatch>();
  remaining: number;
  /** The last failed call's error, for the message when the request gives up. */
  lastError = '';
  /** When it started waiting with no serving worker for its model (clock ms). */
  waitingSince: number | undefined;
  done = false;
  /** Called once when the request settles (unhooks its abort listener). */
  private cleanup: (() => void) | undefined;
  /** Addresses each item failed on. */
  private readonly failedOn = new Map<number, Set<string>>();

  constructor(
    readonly model: string,
    readonly items: readonly WindowWork[],
    readonly opts: EvaluateOptions,
    readonly resolve: (r: Float32Array[]) => void,
    readonly reject: (e: unknown) => void,
  ) {
    this.results = new Array(items.length);
    this.queue = items.map((_, i) => i);
    this.attempts = new Int32Array(items.length);
    this.copies = new Int32Array(items.length);
    this.remaining = items.length;
  }

  /** Fair-share key: the job, or the request itself when it has none. */
  get shareKey(): unknown {
    return this.opts.jobId ?? this;
  }

  /**
   * Whether item `i` may go to `address`: not if it failed there, unless it
   * failed on every serving worker (then any will do).
   */
  private eligible(i: number, address: string, serving: readonly string[]): boolean {
    const bad = this.failedOn.get(i);
    return !bad || !bad.has(address) || serving.every((a) => bad.has(a));
  }

  /** Whether any queued item may go to `address`. */
  hasWorkFor(address: string, serving: readonly string[]): boolean {
    return this.queue.some((i) => this.eligible(i, address, serving));
  }

  /** Takes up to `max` queued items that may go to `address`, in queue order. */
  take(address: string, max: number, serving: readonly string[]): number[] {
    const batch: number[] = [];
    for (let k = 0; k < this.queue.length && batch.length < max; ) {
      const i = this.queue[k]!;
      if (this.eligible(i, address, serving)) {
        batch.push(i);
        this.queue.splice(k, 1);
      } else k++;
    }
    return batch;
  }

  /** Runs `fn` once when the request settles. */
  onSettle(fn: () => void): void {
    this.cleanup = fn;
  }

  /** Resolves with the results, or rejects with `err`; false when it had already settled. */
  settle(err?: unknown): boolean {
    if (this.done) return false;
    this.done = true;
    this.cleanup?.();
    if (err) this.reject(err);
    else this.resolve(this.results as Float32Array[]);
    return true;
  }

  /** Notes whether a serving worker has its model while items wait: starts or clears `waitingSince`. */
  noteWaiting(now: number, servedSomewhere: boolean): void {
    if (this.queue.length > 0 && !servedSomewhere) this.waitingSince ??= now;
    else this.waitingSince = undefined;
  }

  /** A copy of some of its items went out. */
  sent(flight: InFlightBatch): void {
    this.inFlight.add(flight);
    for (const i of flight.items) this.copies[i]!++;
  }

  /** A copy's call settled (answered or failed). */
  landed(flight: InFlightBatch): void {
    this.inFlight.delete(flight);
    for (const i of flight.items) this.copies[i]!--;
  }

  /** A duplicate of `flight` went out (or it is one): it is never duplicated again. */
  hedged(flight: InFlightBatch): void {
    flight.hedged = true;
  }

  /** Stores outputs of items that have none yet; returns how many were new. */
  fill(batch: readonly number[], outs: readonly Float32Array[]): number {
    let fresh = 0;
    batch.forEach((i, j) => {
      if (this.results[i] === undefined) {
        this.results[i] = outs[j];
        this.remaining--;
        fresh++;
      }
    });
    return fresh;
  }

  /**
   * After a failed copy on `address` (with `error`): counts the attempt, remembers the
   * worker, and puts items that have no result and no other copy in flight
   * back at the front of the queue. Returns an item that has used up
   * `maxAttempts`, if any (the request then fails).
   */
  requeue(batch: readonly number[], address: string, maxAttempts: number, error: string): number | undefined {
    this.lastError = error;
    const back: number[] = [];
    let exhausted: number | undefined;
    for (const i of batch) {
      if (this.results[i] !== undefined) continue;
      this.attempts[i]!++;
      let bad = this.failedOn.get(i);
      if (!bad) this.failedOn.set(i, (bad = new Set()));
      bad.add(address);
      if (this.copies[i]! > 0) continue; // another copy may still answer
      if (this.attempts[i]! >= maxAttempts) exhausted ??= i;
      back.push(i);
    }
    this.queue.unshift(...back);
    return exhausted;
  }
}
