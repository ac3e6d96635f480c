import type { JobLease } from './ports.ts';

/**
 * The lease each job taken here is kept and ended with. A shared queue hands
 * a job out again when its lease lapsed (a broker outage stopped the
 * renewals); if it still runs here, the run adopts the new lease instead of
 * a second run starting beside it.
 */
export class HeldLeases {
  private readonly held = new Map<string, { current: JobLease }>();

  /**
   * A lease taken from the queue: undefined when its job is already held
   * here (its run now keeps and ends the new lease), else a lease that
   * follows whichever lease of the job is newest, until `drop`.
   */
  adopt(taken: JobLease): JobLease | undefined {
    const here = this.held.get(taken.id);
    if (here) {
      here.current = taken;
      return undefined;
    }
    const held = { current: taken };
    this.held.set(taken.id, held);
    return {
      get id() {
        return held.current.id;
      },
      get redeliveries() {
        return held.current.redeliveries;
      },
      working: () => held.current.working(),
      ack: () => held.current.ack(),
      release: () => held.current.release(),
    };
  }

  /** Whether job `id` is held here (taken, being claimed or running). */
  has(id: string): boolean {
    return this.held.has(id);
  }

  /** The job's run here is over. */
  drop(id: string): void {
    this.held.delete(id);
  }
}
