import { TERMINAL_STATES, type JobState } from './job.ts';
import type { TenantLoad } from './ports.ts';

interface Unfinished {
  readonly tenant: string;
  readonly state: JobState;
  readonly revision: number;
}

/**
 * The unfinished jobs of each tenant (what `JobStore.tenantLoad` answers),
 * kept from the versions of job records a store is shown: its own writes
 * and, for a shared store, every coordinator's writes as its watch delivers
 * them. Memory is one small entry per unfinished job; finished jobs are
 * forgotten.
 *
 * Versions carry a revision that grows with every write of the bucket (the
 * KV revision; a counter in memory), and a version older than one already
 * applied is ignored: a store applies its own writes at once, ahead of its
 * watch, which delivers the older versions of the job later.
 */
export class UnfinishedJobs {
  private readonly jobs = new Map<string, Unfinished>();
  private readonly tenants = new Map<string, { queued: number; unfinished: number }>();
  /**
   * Jobs that ended (or were deleted) in a write applied ahead of the watch:
   * the revision of that write, so the older versions the watch still
   * delivers do not bring the job back. Dropped when the watch reaches it.
   */
  private readonly endedAhead = new Map<string, number>();

  /**
   * Applies version `revision` of job `id`: its state and tenant, or
   * undefined when the record was deleted. `ahead`: a write of this process
   * that its watch has not delivered yet.
   */
  apply(id: string, job: { readonly state: JobState; readonly tenant?: string } | undefined, revision: number, ahead = false): void {
    const ended = this.endedAhead.get(id);
    if (ended !== undefined) {
      if (revision <= ended) return;
      this.endedAhead.delete(id);
    }
    const before = this.jobs.get(id);
    if (before && revision <= before.revision) return;
    if (before) this.count(before, -1);
    if (!job || TERMINAL_STATES.has(job.state)) {
      this.jobs.delete(id);
      if (ahead) this.endedAhead.set(id, revision);
      return;
    }
    const now: Unfinished = { tenant: job.tenant ?? '', state: job.state, revision };
    this.jobs.set(id, now);
    this.count(now, 1);
  }

  /** Drops job `id` whatever its revision (its record expired or was found missing). */
  forget(id: string): void {
    const before = this.jobs.get(id);
    if (!before) return;
    this.jobs.delete(id);
    this.count(before, -1);
  }

  /** The tenant's unfinished jobs now; two map reads. */
  load(tenant: string): TenantLoad {
    const t = this.tenants.get(tenant);
    return { queued: t?.queued ?? 0, unfinished: t?.unfinished ?? 0 };
  }

  private count(job: Unfinished, delta: 1 | -1): void {
    const t = this.tenants.get(job.tenant) ?? { queued: 0, unfinished: 0 };
    t.unfinished += delta;
    if (job.state === 'QUEUED') t.queued += delta;
    if (t.unfinished === 0) this.tenants.delete(job.tenant);
    else this.tenants.set(job.tenant, t);
  }
}
