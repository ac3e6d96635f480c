/**
 * Items per micro-batch, from the model's backlog (a pure function of the
 * numbers the dispatcher reads; test/unit/cluster-batch-size.test.ts).
 *
 * Balanced batches sized from the model's whole backlog — every active
 * request for it, counted whole, not what is left of their queues (that
 * halved the batches as a round drained: mean 7 of 16 at one worker in
 * bench cluster) — the fewest rounds of equal batches that give every
 * serving worker work. A round's windows arrive as several requests; one of
 * them alone would make batches too small to amortise a GPU's per-batch cost.
 *
 * When the backlog fits in fewer batches per worker than it may have in
 * flight, each worker's share is split over its free slots, so the second
 * batch travels while the first computes, and the first's results come back
 * (and are merged) while the second computes. One batch per worker left
 * both transfers on every round's critical path (at 32 simulated workers,
 * calls took 2.5-3.2 s for 2.05 s of modelled GPU time). Sizes are
 * ceil(queued / free slots) at each pick: larger batches first, and every
 * worker's share within one item of the others'. When work arrives while
 * most slots are taken (a pipelined sampler's next step), no batch is larger
 * than an even share of the work still out over all slots: a few free
 * workers must not take the whole queue and hold it for seconds.
 */
export interface Backlog {
  /** Largest batch the worker takes (its max batch, under its message limit). */
  cap: number;
  /** Serving workers with the model. */
  workers: number;
  /** Batches each worker may have in flight. */
  depth: number;
  /** Items of every active request for the model, counted whole. */
  items: number;
  /** Items waiting in their queues. */
  queued: number;
  /** Items not yet answered (queued or in flight). */
  live: number;
  /** Free slots over the serving workers. */
  freeSlots: number;
}

export function batchSize(b: Backlog): number {
  const workers = Math.max(1, b.workers);
  const cap = Math.max(1, b.cap);
  const rounds = Math.ceil(b.items / (workers * cap));
  if (rounds >= b.depth) return Math.max(1, Math.min(cap, Math.ceil(b.items / (workers * rounds))));
  const even = Math.ceil(b.live / (workers * b.depth));
  return Math.max(1, Math.min(cap, even, Math.ceil(b.queued / Math.max(1, b.freeSlots))));
}

/** The worker's batch cap: its max batch, and as many items as fit in 90 % of its message limit. */
export function batchCap(maxBatch: number, maxMessageBytes: number, bytesPerItem: number): number {
  return Math.max(1, Math.min(maxBatch, Math.floor((maxMessageBytes * 0.9) / bytesPerItem)));
}
