/**
 * Fair sharing of workers across concurrent jobs, by items: each job is
 * charged for the evaluations handed out for it, and the next micro-batch
 * goes to the job charged least (start-time fair queueing). A job with many
 * windows per step therefore gets the same share of the workers as one
 * with few, not a share proportional to its batch sizes; idle capacity
 * still goes to whoever has work.
 */
export class FairShare {
  private readonly charged = new Map<unknown, number>();

  /** Registers a key that has work now; a newcomer starts at the least charge among the others, never below. */
  join(key: unknown): void {
    if (this.charged.has(key)) return;
    let min = Infinity;
    for (const v of this.charged.values()) min = Math.min(min, v);
    this.charged.set(key, Number.isFinite(min) ? min : 0);
  }

  /** Forgets keys that no longer have work (they rejoin at the current minimum). */
  retain(active: ReadonlySet<unknown>): void {
    for (const k of this.charged.keys()) if (!active.has(k)) this.charged.delete(k);
  }

  charge(key: unknown, items: number): void {
    this.charged.set(key, (this.charged.get(key) ?? 0) + items);
  }

  /** Charge of a key (0 when unknown). */
  of(key: unknown): number {
    return this.charged.get(key) ?? 0;
  }
}
