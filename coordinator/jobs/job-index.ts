import { JOB_STATES, TERMINAL_STATES, type JobState } from './job.ts';
import { isAfter, newestFirst } from './list-order.ts';
import type { JobCounts, JobListFilter, ListCursor, TenantLoad, UnfinishedGroup } from './ports.ts';
import { UnfinishedJobs } from './unfinished-jobs.ts';

/** What the index keeps of a job record: what List filters and orders by. */
export interface IndexedJob {
  readonly state: JobState;
  readonly tenant?: string;
  readonly createdAtMs: number;
  readonly spec?: { readonly priority: number };
}

interface Entry extends ListCursor {
  readonly tenant: string;
  readonly state: JobState;
  readonly priority: number;
  readonly revision: number;
}

/** What {@link JobIndex.page} selects by: a List filter without its limit. */
export type IndexFilter = Omit<JobListFilter, 'limit'>;

export interface JobIndexOptions {
  /**
   * Records expire this long after their last write (the KV bucket's TTL;
   * 0 or absent: never). An entry whose record has expired leaves the index
   * then: the bucket tells no one of an expiry.
   */
  readonly retentionMs?: number;
  /** Clock of `retentionMs`; Date.now by default. */
  readonly now?: () => number;
}

/** Oldest first: the reverse of List's order, so new jobs are appended. */
const olderFirst = (a: ListCursor, b: ListCursor) => newestFirst(b, a);

/**
 * What a job store answers without reading records, kept from the versions
 * of job records it is shown (its own writes, and for a shared store every
 * coordinator's writes as its watch delivers them): jobs per state
 * (`JobStore.counts`), each tenant's queued and unfinished jobs
 * (`tenantLoad`, through {@link UnfinishedJobs}), and the ids of the jobs a
 * List page shows, in List order (`coordinator/jobs/list-order.ts`).
 *
 * One small entry per job record (id, creation time, tenant, state,
 * revision). Versions older than the one applied are ignored, as in
 * {@link UnfinishedJobs}: a store applies its own writes ahead of its watch.
 */
export class JobIndex {
  private readonly entries = new Map<string, Entry>();
  /** Every entry, oldest first (the reverse of List's order). */
  private readonly order: Entry[] = [];
  private readonly perState = new Map<JobState, number>(JOB_STATES.map((s) => [s, 0]));
  /** Unfinished jobs per tenant, state and priority (`unfinishedGroups`). */
  private readonly groups = new Map<string, { -readonly [K in keyof UnfinishedGroup]: UnfinishedGroup[K] }>();
  private readonly unfinished = new UnfinishedJobs();
  /** Revisions at which records were deleted: older versions delivered later do not bring them back. */
  private readonly deleted = new Map<string, number>();
  /**
   * With `retentionMs`: when each job was last written, least recently
   * written first (a write moves its job to the end), for expiry.
   */
  private readonly lastWrite = new Map<string, number>();
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(opts: JobIndexOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 0;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Applies version `revision` of job `id` (undefined: the record was
   * deleted), written at `writtenAtMs`. `ahead`: a write of this process
   * that its watch has not delivered yet.
   */
  apply(id: string, job: IndexedJob | undefined, revision: number, ahead = false, writtenAtMs = this.now()): void {
    const before = this.entries.get(id);
    if ((before && revision <= before.revision) || revision <= (this.deleted.get(id) ?? -1)) return;
    this.unfinished.apply(id, job, revision, ahead);
    if (before) this.remove(before);
    if (!job) {
      this.lastWrite.delete(id);
      this.deleted.set(id, revision);
      return;
    }
    const entry: Entry = { id, createdAtMs: job.createdAtMs, tenant: job.tenant ?? '', state: job.state, priority: job.spec?.priority ?? 0, revision };
    this.entries.set(id, entry);
    this.order.splice(this.position(entry), 0, entry);
    this.count(entry, 1);
    if (this.retentionMs > 0) {
      this.lastWrite.delete(id);
      this.lastWrite.set(id, writtenAtMs);
    }
  }

  /** Drops job `id`, whose record was found missing (expired or purged). */
  forget(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.remove(entry);
    this.lastWrite.delete(id);
    this.unfinished.forget(id);
  }

  /** Jobs per state now. */
  counts(): JobCounts {
    this.expire();
    return Object.fromEntries(this.perState) as Record<JobState, number>;
  }

  /** Unfinished jobs now, per tenant, state and priority: one row per group that has any. */
  unfinishedGroups(): UnfinishedGroup[] {
    this.expire();
    return [...this.groups.values()].map((g) => ({ ...g }));
  }

  /** The tenant's queued and unfinished jobs now. */
  load(tenant: string): TenantLoad {
    this.expire();
    return this.unfinished.load(tenant);
  }

  /**
   * At most `max` jobs that `filter` keeps, in List order: their ids and
   * places. Entries the filter leaves out are skipped in memory; the work is
   * the entries from the cursor to the last one shown.
   */
  page(filter: IndexFilter, max: number): ListCursor[] {
    this.expire();
    const states: ReadonlySet<JobState> | undefined = filter.states?.length ? new Set(filter.states) : undefined;
    const out: ListCursor[] = [];
    // Newest first: from the end of `order`, or from just older than the cursor.
    let i = filter.after ? this.lowerBound(filter.after) - 1 : this.order.length - 1;
    for (; i >= 0 && out.length < max; i--) {
      const e = this.order[i]!;
      if (states && !states.has(e.state)) continue;
      if (filter.tenant !== undefined && e.tenant !== filter.tenant) continue;
      if (filter.after && !isAfter(e, filter.after)) continue;
      out.push({ id: e.id, createdAtMs: e.createdAtMs });
    }
    return out;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.id);
    this.order.splice(this.lowerBound(entry), 1);
    this.count(entry, -1);
  }

  private count(entry: Entry, delta: 1 | -1): void {
    this.perState.set(entry.state, this.perState.get(entry.state)! + delta);
    if (TERMINAL_STATES.has(entry.state)) return;
    const key = `${entry.tenant}\n${entry.state}\n${entry.priority}`;
    const g = this.groups.get(key) ?? { tenant: entry.tenant, state: entry.state, priority: entry.priority, jobs: 0 };
    g.jobs += delta;
    if (g.jobs === 0) this.groups.delete(key);
    else this.groups.set(key, g);
  }

  /** Index of the first entry not older than `place` (its own index when it is there). */
  private lowerBound(place: ListCursor): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (olderFirst(this.order[mid]!, place) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Where a new entry goes: new jobs are the newest, so this is mostly the end. */
  private position(entry: Entry): number {
    const last = this.order[this.order.length - 1];
    return !last || olderFirst(last, entry) < 0 ? this.order.length : this.lowerBound(entry);
  }

  /** Drops the entries whose last write is older than the retention: constant work per expired entry. */
  private expire(): void {
    if (this.retentionMs <= 0) return;
    const cutoff = this.now() - this.retentionMs;
    for (const [id, atMs] of this.lastWrite) {
      if (atMs > cutoff) break;
      this.forget(id);
    }
  }
}
