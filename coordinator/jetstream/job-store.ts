import { createHash } from 'node:crypto';
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { UnavailableError, errorMessage } from '../../common/errors.ts';
import { TERMINAL_STATES, type JobRecord } from '../jobs/job.ts';
import { selectJobs } from '../jobs/list-order.ts';
import { LeaseLostError, type CancelRequests, type JobListFilter, type JobStore, type TenantLoad } from '../jobs/ports.ts';
import { UnfinishedJobs } from '../jobs/unfinished-jobs.ts';

/**
 * A KV value: the record and the message of the write that produced it (what
 * Watch shows). Uploaded conditioning tensors (megabytes, and the record is
 * rewritten on every progress event) are kept once in the object store; the
 * KV copy keeps their shapes only and `blob` says where the values are.
 */
interface StoredJob {
  job: JobRecord;
  message: string;
  blob?: string;
}

/** JetStream's answer to a compare-and-set against a newer revision. */
const WRONG_LAST_SEQUENCE = 10071;
/** Records read at once by `list`. */
const LIST_CONCURRENCY = 32;
/** How long `tenantLoad` waits for the index of unfinished jobs while it is (re)built. */
const INDEX_WAIT_MS = 10_000;
/** Pause before the watch of job records is opened again after it ended. */
const REFOLLOW_MS = 1_000;

function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

const jobKey = (id: string) => `job.${id}`;
const requestKey = (clientRequestId: string) => `req.${createHash('sha256').update(clientRequestId).digest('hex')}`;
const cancelKey = (id: string) => `cancel.${id}`;
const conditioningBlob = (id: string) => `specs/${id}/conditioning`;

/**
 * Job records in a JetStream KV bucket, shared by every coordinator.
 *
 * Writers are fenced by revision: a coordinator remembers the revision of
 * its own last write of a job (create, claim, put) and writes the next one
 * only on top of it, so a coordinator whose job was taken over (it stopped
 * renewing its lease but lives on) gets {@link LeaseLostError} instead of
 * overwriting the new runner's record. Writes of one job are serialised.
 * Client request ids are claimed with an atomic create, so two submits
 * with one id on two coordinators make one job.
 *
 * The unfinished jobs of each tenant (`tenantLoad`, the quota check of
 * every Submit) come from an index in memory: built from the bucket by
 * `follow` (one watch of `job.*`, which delivers the current records and
 * then every write of every coordinator), with this process's own writes
 * applied at once.
 */
export class KvJobStore implements JobStore {
  /** Revision of this process's last write of each job it writes. */
  private readonly revisions = new Map<string, number>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private unfinished = new UnfinishedJobs();
  /** Whether `unfinished` holds every record (the watch delivered the ones stored when it opened). */
  private indexLoaded = false;
  private following = false;
  private stopFollowing: (() => void) | undefined;
  private closed = false;

  /**
   * `bucket` is the KV bucket's name: `list` asks `jsm` for the keys of its
   * stream (`KV_<bucket>`) at one instant.
   */
  constructor(
    private readonly kv: KV,
    private readonly blobs: ObjectStore,
    private readonly keysOf: { jsm: JetStreamManager; bucket: string },
    /** Where trouble with the watch of job records is told. */
    private readonly log?: (message: string, error: string) => void,
  ) {}

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
      rev = await this.kv.create(jobKey(record.id), encode(record, 'queued'));
    } catch (err) {
      // Two retries of one Submit adopting the same claimed id: the other stored it first.
      const other = isConflict(err) ? await this.get(record.id) : undefined;
      if (other) return other;
      throw err;
    }
    this.revisions.set(record.id, rev);
    this.unfinished.apply(record.id, record, rev, true);
    return structuredClone(record);
  }

  /** The whole record, conditioning tensors included. */
  async get(id: string): Promise<JobRecord | undefined> {
    return (await this.entry(id, true))?.stored.job;
  }

  put(job: JobRecord, message = 'update'): Promise<void> {
    const snapshot = encode(job, message);
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
      this.unfinished.apply(job.id, job, next, true);
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
          const rev = await this.kv.update(jobKey(id), encode(next, message ?? `state ${next.state}`), current.revision);
          if (TERMINAL_STATES.has(next.state)) this.revisions.delete(id);
          else this.revisions.set(id, rev);
          this.unfinished.apply(id, next, rev, true);
          return structuredClone(next);
        } catch (err) {
          // Someone wrote in between: decide again on what is stored now.
          if (!isConflict(err)) throw err;
        }
      }
    });
  }

  async list(filter: JobListFilter = {}): Promise<JobRecord[]> {
    const keys = await this.jobKeys();
    const jobs: JobRecord[] = [];
    for (let i = 0; i < keys.length; i += LIST_CONCURRENCY) {
      // Listed records carry the shapes of conditioning tensors, not their values.
      const part = await Promise.all(keys.slice(i, i + LIST_CONCURRENCY).map((k) => this.entry(k.slice('job.'.length), false)));
      for (const e of part) if (e) jobs.push(e.stored.job);
    }
    return selectJobs(jobs, filter);
  }

  /**
   * The job keys the bucket holds now, each once. Not `kv.keys()`: that is a
   * consumer that goes on delivering the writes made while it runs, and it
   * ends when it sees nothing pending, so while records change it yields a
   * key again (the job listed twice, in two states) or ends early (jobs
   * missing). The stream's subjects are one answer of the server instead.
   */
  private async jobKeys(): Promise<string[]> {
    const { jsm, bucket } = this.keysOf;
    const prefix = `$KV.${bucket}.`;
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}job.*` });
    // Deleted and purged keys keep a marker here; `entry` skips them.
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
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
    if (!this.following) this.follow().catch(() => undefined);
    const deadline = Date.now() + INDEX_WAIT_MS;
    while (!this.indexLoaded) {
      if (this.closed) throw new UnavailableError('job store is closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new UnavailableError('the index of unfinished jobs is not loaded yet (is NATS reachable?); retry');
      await new Promise((r) => setTimeout(r, Math.min(50, left)));
    }
    return this.unfinished.load(tenant);
  }

  /**
   * Loads the index of unfinished jobs from the records stored now and keeps
   * it current from then on; resolves once loaded. When the watch cannot be
   * opened, or ends other than by `close`, the index is loaded again from
   * scratch a second later (meanwhile `tenantLoad` waits).
   */
  follow(): Promise<void> {
    this.following = true;
    const opened = this.openWatch();
    opened.catch((err: unknown) => {
      this.log?.('opening the watch of job records failed; trying again', errorMessage(err));
      this.followAgain();
    });
    return opened;
  }

  /** Stops the watch of job records. Idempotent. */
  close(): void {
    this.closed = true;
    this.stopFollowing?.();
    this.stopFollowing = undefined;
  }

  private followAgain(): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      if (!this.closed) this.follow().catch(() => undefined);
    }, REFOLLOW_MS);
    timer.unref();
  }

  private async openWatch(): Promise<void> {
    // A fresh index: this process's writes from now on go into it, and the
    // older versions of those jobs that the watch delivers are ignored (revisions).
    const index = new UnfinishedJobs();
    this.unfinished = index;
    this.indexLoaded = false;
    // With no job records the watch delivers nothing until the next write: loaded as it opens.
    // (Records written between this look and the watch come with the watch, a moment later.)
    const empty = (await this.jobKeys()).length === 0;
    const iter = await this.kv.watch({ key: 'job.*', include: KvWatchInclude.LastValue });
    if (this.closed || this.unfinished !== index) {
      iter.stop();
      return;
    }
    this.stopFollowing = () => iter.stop();
    let markLoaded!: () => void;
    const loaded = new Promise<void>((r) => (markLoaded = r));
    const done = () => {
      if (this.unfinished === index) this.indexLoaded = true;
      markLoaded();
    };
    if (empty) done();
    void (async () => {
      for await (const e of iter) {
        let job: JobRecord | undefined;
        try {
          job = e.operation === 'PUT' ? decode(e).job : undefined;
        } catch (err) {
          this.log?.(`job record ${e.key} is not JSON; left out of the tenant counts`, errorMessage(err));
        }
        if (job || e.operation !== 'PUT') index.apply(e.key.slice('job.'.length), job, e.revision);
        // Nothing more pending for the watch: every record stored when it opened is in.
        if (!this.indexLoaded && (e.delta === 0 || e.isUpdate)) done();
      }
    })()
      .catch((err: unknown) => this.log?.('the watch of job records failed', errorMessage(err)))
      .finally(() => {
        markLoaded();
        if (this.closed || this.unfinished !== index) return;
        // The watch ended under us (its consumer is gone): load the index again.
        this.indexLoaded = false;
        this.followAgain();
      });
    await loaded;
  }

  /** Every version of the job as any coordinator writes it, starting with the current one. */
  async watch(id: string, listener: (job: JobRecord, message: string) => void): Promise<() => void> {
    const iter = await this.kv.watch({ key: jobKey(id), include: KvWatchInclude.LastValue, ignoreDeletes: true });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const stored = decode(e);
        listener(stored.job, stored.message);
      }
    })().catch(() => undefined);
    return () => iter.stop();
  }

  private async entry(id: string, whole: boolean): Promise<{ stored: StoredJob; revision: number } | undefined> {
    const e = await this.kv.get(jobKey(id));
    if (!e || e.operation !== 'PUT') return undefined;
    const stored = decode(e);
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

/** Cancel requests as KV keys `cancel.<id>`, watched by every coordinator. */
export class KvCancelRequests implements CancelRequests {
  private readonly listeners = new Set<(id: string) => void>();
  private stopWatch: (() => void) | undefined;

  private constructor(private readonly kv: KV) {}

  static async open(kv: KV): Promise<KvCancelRequests> {
    const c = new KvCancelRequests(kv);
    const iter = await kv.watch({ key: 'cancel.*', include: KvWatchInclude.UpdatesOnly, ignoreDeletes: true });
    c.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const id = e.key.slice('cancel.'.length);
        for (const l of [...c.listeners]) l(id);
      }
    })().catch(() => undefined);
    return c;
  }

  async request(id: string): Promise<void> {
    await this.kv.put(cancelKey(id), String(Date.now()));
  }

  async isRequested(id: string): Promise<boolean> {
    const e = await this.kv.get(cancelKey(id));
    return e !== null && e.operation === 'PUT';
  }

  subscribe(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async clear(id: string): Promise<void> {
    if (await this.isRequested(id)) await this.kv.purge(cancelKey(id));
  }

  close(): void {
    this.stopWatch?.();
    this.listeners.clear();
  }
}

function encode(job: JobRecord, message: string): string {
  const c = job.spec.conditioning;
  if (!c) return JSON.stringify({ job, message } satisfies StoredJob);
  const shapesOnly = Object.fromEntries(Object.entries(c).map(([k, t]) => [k, { shape: t.shape, data: '' }]));
  return JSON.stringify({ job: { ...job, spec: { ...job.spec, conditioning: shapesOnly } }, message, blob: conditioningBlob(job.id) } satisfies StoredJob);
}

function decode(e: KvEntry): StoredJob {
  return e.json<StoredJob>();
}
