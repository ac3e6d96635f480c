/**
 * Throughput awareness: each worker's measured pace (seconds per item of
 * its recent calls, transfer included: WorkerEntry.secondsPerItem, kept by
 * the registry) and its calls in flight tell when it would finish a batch.
 * The dispatcher asks it whether to leave a batch to a faster worker, and
 * which batch an idle worker should duplicate early (docs/dispatch.md).
 */
import type { Clock } from './clock.ts';
import type { InFlightBatch } from './eval-request.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

/** How much sooner another worker must be expected to finish a batch to be preferred (or to duplicate it early): 25 %. */
export const FASTER_MARGIN = 0.25;

/** Sort key of a worker by speed: unmeasured first (-1), then seconds per item. */
export function perItemOrder(w: WorkerEntry): number {
  return w.secondsPerItem ?? -1;
}

export class Pace {
  /** Calls in flight per worker (start and items). */
  private readonly flying = new Map<WorkerEntry, Set<{ startedMs: number; items: number }>>();

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly maxInFlightPerWorker: number,
    private readonly clock: Clock,
  ) {}

  /** A call of `items` to `w` started now; returns its end (call it once, when the call has settled). */
  started(w: WorkerEntry, items: number): () => void {
    const entry = { startedMs: this.clock.now(), items };
    const set = this.flying.get(w) ?? new Set();
    set.add(entry);
    this.flying.set(w, set);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.flying.get(w) === set) this.flying.delete(w);
    };
  }

  /**
   * Milliseconds `w` still needs for its calls in flight, from its seconds
   * per item (0 when unknown); undefined when it is full and one of them is
   * long overdue (a stuck or stalled worker is no place to wait for).
   */
  remainingMs(w: WorkerEntry, now: number): number | undefined {
    const spi = w.secondsPerItem;
    if (spi === undefined) return 0;
    let left = 0;
    let overdue = false;
    for (const f of this.flying.get(w) ?? []) {
      const expected = f.items * spi * 1000;
      left += Math.max(0, f.startedMs + expected - now);
      if (now - f.startedMs > 2 * expected + 1_000) overdue = true;
    }
    return overdue && w.inFlight >= this.maxInFlightPerWorker ? undefined : left;
  }

  /**
   * Whether another serving worker of `model` would finish a batch of
   * `items` clearly sooner than `w` (its calls in flight, then the batch at
   * its measured seconds per item): a worker behind a slow link, or a slower
   * GPU, then gets only what the faster ones cannot take in time, instead
   * of an even share that every step waits for. Workers not measured yet
   * are never passed over (they are how they get measured).
   */
  fasterElsewhere(w: WorkerEntry, model: string, items: number): boolean {
    const spi = w.secondsPerItem;
    if (spi === undefined) return false;
    const now = this.clock.now();
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
   * The batch idle `w` should duplicate now, if any (both workers measured):
   * one `w` would finish clearly before its own worker is expected to (a
   * slower worker), or one overdue on its worker — past twice its expected
   * time and 100 ms, a worker that just slowed down (its link) — that `w`
   * would finish in less time than it has already taken. The largest gain first.
   */
  earlyStraggler<C extends { b: InFlightBatch; hedged: boolean }>(w: WorkerEntry, candidates: C[], now: number): C | undefined {
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
}
