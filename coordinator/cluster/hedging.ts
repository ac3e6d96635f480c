/**
 * Hedging: which batch in flight an idle worker duplicates, if any. The
 * dispatcher sends the copy and the first answer wins (evaluations are pure,
 * both answers are the same numbers).
 *
 * Only a request with nothing left in its queue is hedged (queued work
 * comes first), only a worker with nothing in flight takes a duplicate, and
 * a batch is duplicated at most once. Two reasons pick a batch: its worker
 * is measured clearly slower than the idle one (pace.ts: early, a slow link
 * or a slower GPU), or it is a straggler, overdue past its device class's
 * usual latency (stragglers.ts).
 */
import type { EvalRequest, InFlightBatch } from './eval-request.ts';
import type { Pace } from './pace.ts';
import { pickStraggler } from './stragglers.ts';
import type { WorkerEntry } from './worker-registry.ts';

/** A copy to send: `items` of `p` (those still unanswered), in flight as `b` on another worker. */
export interface Duplicate {
  readonly p: EvalRequest;
  readonly b: InFlightBatch;
  readonly items: number[];
}

/**
 * The batch idle `w` should duplicate at `now` (clock ms), if any.
 * `stragglerAfterMs` gives a batch's straggler threshold (undefined: not known yet, never a straggler).
 */
export function duplicateFor(w: WorkerEntry, active: readonly EvalRequest[], now: number, pace: Pace, stragglerAfterMs: (b: InFlightBatch) => number | undefined): Duplicate | undefined {
  if (w.inFlight > 0) return undefined;
  const candidates: { p: EvalRequest; b: InFlightBatch; startedMs: number; hedged: boolean }[] = [];
  for (const p of active) {
    if (p.queue.length > 0 || !w.models.has(p.model)) continue;
    for (const b of p.inFlight) if (b.worker !== w) candidates.push({ p, b, startedMs: b.startedMs, hedged: b.hedged });
  }
  const pick = pace.earlyStraggler(w, candidates, now) ?? pickStraggler(candidates, now, (c) => stragglerAfterMs(c.b));
  if (!pick) return undefined;
  return { p: pick.p, b: pick.b, items: pick.b.items.filter((i) => pick.p.results[i] === undefined) };
}
