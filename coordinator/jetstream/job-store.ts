import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { TERMINAL_STATES, type JobRecord } from '../jobs/job.ts';
import { keeps, limitOf } from '../jobs/list-order.ts';
import { LeaseLostError, type JobCounts, type JobListFilter, type JobStore, type TenantLoad, type UnfinishedGroup } from '../jobs/ports.ts';
import { JobIndexWatch, type WatchedBucket } from './job-index-watch.ts';
import { conditioningBlob, decodeJob, encodeJob, isConflict, jobKey, requestKey, type StoredJob } from './stored-job.ts';

/** Records read at once by `list`. */
const LIST_CONCURRENCY = 32;

/**
 * Job records in a JetStream KV bucket, shared by every coordinator
 * (stored-job.ts: keys and values).
 *
 * Writers are fenced by revision: a coordinator remembers the revision of
 * its own last write of a job (create, claim, put) and writes the next one
 * only on top of it, so a coordinator whose job was taken over (it stopped
 * renewing its lease but lives on) gets {@link LeaseLostError} instead of
 * overwriting the new runner's record. Writes of one job are serialised.
 * Client request ids are claimed with an atomic create, so two submits
 * with one id on two coordinators make one job.
 *
 * Counts per state (`counts`, the metrics scrape), the unfinished jobs of
 * each tenant (`tenantLoad`, the quota check of every Submit) and the jobs
 * a List page shows come from an index in memory
 * (`coordinator/jobs/job-index.ts`) kept by one watch of `job.*`
 * (job-index-watch.ts), with this process's own writes applied at once:
 * none of them reads every record.
 */
export class KvJobStore implements JobStore {
  /** Revision of this process's last write of each job it writes. */
  private readonly revisions = new Map<string, number>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly index: JobIndexWatch;
  private readonly kv: KV;

  constructor(
    bucket: WatchedBucket,
    private readonly blobs: ObjectStore,
    /** Where trouble with the watch of job records is told. */
    log?: (message: string, error: string) => void,
  ) {
    this.kv = bucket.kv;
    this.index = new JobIndexWatch(bucket, log);
  }

  async create(job: JobRecord): Promise<JobRecord> {
    // The client request id first: a Submit that stops between its two writes
    // (a broker outage) leaves a claimed id, which its retry adopts, never a
    // job no retry can find (the retry would store a second one).
    let record = job;
    if (job.clientRequestId) {
      try {
        await this.kv.create(requestKey(job.clientRequestId), job.id);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const claimed = (await this.kv.get(requestKey(job.clientRequestId)))?.string();
        const earlier = claimed ? await this.get(claimed) : undefined;
        if (earlier) return earlier;
        if (!claimed) throw new Error(`client request id ${job.clientRequestId} is claimed by no job`, { cause: err });
        // Claimed by a Submit that did not store its job: store this one under that id.
        record = { ...job, id: claimed };
      }
    }
    if (record.spec.conditioning) await this.blobs.putBlob({ name: conditioningBlob(record.id) }, Buffer.from(JSON.stringify(record.spec.conditioning)));
    let rev: number;
    try {
      rev = await this.kv.create(jobKey(record.id), encodeJob(record, 'queued'));
    } catch (err) {
      // Two retries of one Submit adopting the same claimed id: the other stored it first.
      const other = isConflict(err) ? await this.get(record.id) : undefined;
      if (other) return other;
      throw err;
    }
    this.revisions.set(record.id, rev);
    this.index.applyOwn(record.id, record, rev);
    return structuredClone(record);
  }

  /** The whole record, conditioning tensors included. */
  async get(id: string): Promise<JobRecord | undefined> {
    return (await this.entry(id, true))?.stored.job;
  }

  put(job: JobRecord, message = 'update'): Promise<void> {
    const snapshot = encodeJob(job, message);
    return this.serialised(job.id, async () => {
      const rev = this.revisions.get(job.id);
      let next: number;
      try {
        next = rev === undefined ? await this.kv.put(jobKey(job.id), snapshot) : await this.kv.update(jobKey(job.id), snapshot, rev);
      } catch (err) {
        if (isConflict(err)) throw new LeaseLostError(job.id);
        throw err;
      }
      if (TERMINAL_STATES.has(job.state)) this.revisions.delete(job.id);
      else this.revisions.set(job.id, next);
      this.index.applyOwn(job.id, job, next);
    });
  }

  update(id: string, change: (job: JobRecord) => JobRecord | undefined, message?: string): Promise<JobRecord | undefined> {
    return this.serialised(id, async () => {
      for (;;) {
        const current = await this.entry(id, true);
        if (!current) return undefined;
        const next = change(structuredClone(current.stored.job));
        if (!next) return current.stored.job;
        try {
          const rev = await this.kv.update(jobKey(id), encodeJob(next, message ?? `state ${next.state}`), current.revision);
          if (TERMINAL_STATES.has(next.state)) this.revisions.delete(id);
          else this.revisions.set(id, rev);
          this.index.applyOwn(id, next, rev);
          return structuredClone(next);
        } catch (err) {
          // Someone wrote in between: decide again on what is stored now.
          if (!isConflict(err)) throw err;
        }
      }
    });
  }

  /**
   * The index picks the page's jobs and only their records are read (up to
   * 32 at once). A record whose state changed since the index saw it is
   * checked against the filter again, and the next jobs are read in its
   * place: the page holds what the records say.
   */
  async list(filter: JobListFilter = {}): Promise<JobRecord[]> {
    const index = await this.index.ready();
    const limit = limitOf(filter);
    const jobs: JobRecord[] = [];
    let after = filter.after;
    while (jobs.length < limit) {
      const picked = index.page({ ...filter, after }, Math.min(limit - jobs.length, LIST_CONCURRENCY));
      if (picked.length === 0) break;
      // Listed records carry the shapes of conditioning tensors, not their values.
      const read = await Promise.all(picked.map((c) => this.entry(c.id, false)));
      read.forEach((e, i) => {
        if (!e) this.index.forget(picked[i]!.id);
        else if (keeps(filter, e.stored.job)) jobs.push(e.stored.job);
      });
      after = picked[picked.length - 1];
    }
    return jobs;
  }

  async findByClientRequestId(clientRequestId: string): Promise<JobRecord | undefined> {
    const e = await this.kv.get(requestKey(clientRequestId));
    if (!e || e.operation !== 'PUT') return undefined;
    return this.get(e.string());
  }

  /**
   * The tenant's unfinished jobs from the index: no record is read. Waits
   * (at most 10 s, then UNAVAILABLE) while the index is being loaded.
   */
  async tenantLoad(tenant: string): Promise<TenantLoad> {
    return (await this.index.ready()).load(tenant);
  }

  /** Jobs per state from the index: no record is read. Waits as `tenantLoad` does. */
  async counts(): Promise<JobCounts> {
    return (await this.index.ready()).counts();
  }

  /** Unfinished jobs per tenant, state and priority from the index: no record is read. */
  async unfinishedGroups(): Promise<UnfinishedGroup[]> {
    return (await this.index.ready()).unfinishedGroups();
  }

  /** Loads the index of job records and keeps it current from then on; resolves once loaded. */
  follow(): Promise<void> {
    return this.index.follow();
  }

  /** Stops the watch of job records. Idempotent. */
  close(): void {
    this.index.close();
  }

  /** Every version of the job as any coordinator writes it, starting with the current one. */
  async watch(id: string, listener: (job: JobRecord, message: string) => void): Promise<() => void> {
    const iter = await this.kv.watch({ key: jobKey(id), include: KvWatchInclude.LastValue, ignoreDeletes: true });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const stored = decodeJob(e);
        listener(stored.job, stored.message);
      }
    })().catch(() => undefined);
    return () => iter.stop();
  }

  private async entry(id: string, whole: boolean): Promise<{ stored: StoredJob; revision: number } | undefined> {
    const e = await this.kv.get(jobKey(id));
    if (!e || e.operation !== 'PUT') return undefined;
    const stored = decodeJob(e);
    if (whole && stored.blob) {
      const bytes = await this.blobs.getBlob(stored.blob);
      if (!bytes) throw new Error(`conditioning tensors of job ${id} are missing from the object store (expired?)`);
      stored.job.spec.conditioning = JSON.parse(Buffer.from(bytes).toString('utf8')) as JobRecord['spec']['conditioning'];
    }
    return { stored, revision: e.revision };
  }

  private serialised<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.chains.set(id, tail);
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return run;
  }
}
