/**
 * Straggler detection: when a request has nothing left to hand out and a
 * worker sits idle, the batch that has been in flight longest past the
 * usual latency is sent again to the idle worker, and whichever copy
 * answers first wins (evaluations are pure, so both answers are the same).
 */

export interface StragglerPolicy {
  /** A batch is a straggler after `factor` times the typical call latency of its worker's device class... */
  readonly factor: number;
  /** ...and never before this many milliseconds. */
  readonly minMs: number;
}

export const DEFAULT_STRAGGLER_POLICY: StragglerPolicy = { factor: 3, minMs: 2_000 };

/** Milliseconds after which a call is a straggler; undefined while the typical latency is unknown. */
export function stragglerAfterMs(typicalSeconds: number | undefined, policy: StragglerPolicy): number | undefined {
  if (typicalSeconds === undefined) return undefined;
  return Math.max(policy.minMs, policy.factor * typicalSeconds * 1000);
}

/** What the picker needs to know of an in-flight batch. */
export interface StragglerCandidate {
  readonly startedMs: number;
  readonly hedged: boolean;
}

/**
 * The most overdue batch (largest elapsed / threshold above 1) among those
 * not yet duplicated, or undefined. `thresholdMs` gives each batch's
 * straggler threshold (undefined: unknown, never picked).
 */
export function pickStraggler<B extends StragglerCandidate>(batches: Iterable<B>, nowMs: number, thresholdMs: (b: B) => number | undefined): B | undefined {
  let best: B | undefined;
  let bestRatio = 1;
  for (const b of batches) {
    if (b.hedged) continue;
    const limit = thresholdMs(b);
    if (limit === undefined || limit <= 0) continue;
    const ratio = (nowMs - b.startedMs) / limit;
    if (ratio > bestRatio) {
      best = b;
      bestRatio = ratio;
    }
  }
  return best;
}
