/**
 * Which waiting request a free worker serves next, and the micro-batch it
 * takes: the dispatcher's order of work (dispatcher.ts).
 */
import type { EvalRequest } from './eval-request.ts';
import type { FairShare } from './fair-share.ts';
import type { Segment } from './wire-batch.ts';
import type { WorkerEntry } from './worker-registry.ts';

/**
 * The request with work `w` may take whose job was charged least; ties
 * between jobs go round-robin from `rr`, and within a job the oldest
 * request goes first. Requests of speculative work (Picard points past the
 * converged one) come only when no necessary work waits for `w`, so one
 * job's speculation never delays another job's steps. The composite
 * denoiser submits a round as calls in plan order and merges them in that
 * order: spreading one job's batches round-robin over its calls held every
 * call open until the round's last batch, so the whole merge waited for the
 * end of the round (at 32 simulated workers, 7 calls merged back to back
 * after the last reply).
 */
export function nextRequest(active: readonly EvalRequest[], w: WorkerEntry, rr: number, share: FairShare, serving: (model: string) => string[]): { p: EvalRequest; at: number } | undefined {
  let best: EvalRequest | undefined;
  let bestAt = 0;
  const n = active.length;
  for (let k = 0; k < n; k++) {
    const at = (rr + k) % n;
    const p = active[at]!;
    if (p.queue.length === 0 || !w.models.has(p.model)) continue;
    if (!p.hasWorkFor(w.address, serving(p.model))) continue;
    if (!best || before(share, p, at, best, bestAt)) {
      best = p;
      bestAt = at;
    }
  }
  return best ? { p: best, at: bestAt } : undefined;
}

/** Whether `p` (at `at` in the active list) goes before `q`: necessary work first, then the job charged least, then the oldest request. */
function before(share: FairShare, p: EvalRequest, at: number, q: EvalRequest, qAt: number): boolean {
  const ps = p.opts.speculative === true;
  if (ps !== (q.opts.speculative === true)) return !ps;
  const pc = share.of(p.shareKey);
  const qc = share.of(q.shareKey);
  return pc < qc || (p.shareKey === q.shareKey && at < qAt);
}

/**
 * One micro-batch of up to `size` items for `w`, starting with `first`'s
 * items and topped up from other requests for the same model (the composite
 * denoiser submits a round as several requests; cutting batches at request
 * boundaries left small remainder batches that unbalanced the workers).
 * Every item of a model has the model's native shape, so any of them batch
 * together; a batch of necessary work takes no speculative items.
 */
export function assembleBatch(active: readonly EvalRequest[], w: WorkerEntry, first: EvalRequest, size: number, serving: (model: string) => string[]): Segment[] {
  const segments: Segment[] = [];
  let taken = 0;
  const takeFrom = (p: EvalRequest): void => {
    const items = p.take(w.address, size - taken, serving(p.model));
    if (items.length === 0) return;
    segments.push({ p, items });
    taken += items.length;
  };
  takeFrom(first);
  for (const p of active) {
    if (taken >= size) break;
    if (p === first || p.model !== first.model || p.queue.length === 0) continue;
    // Speculative items would lengthen a batch of necessary work.
    if (p.opts.speculative && !first.opts.speculative) continue;
    takeFrom(p);
  }
  return segments;
}
