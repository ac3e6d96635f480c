import { createHash } from 'node:crypto';
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { TERMINAL_STATES, type JobRecord } from '../jobs/job.ts';
import { selectJobs } from '../jobs/list-order.ts';
import { LeaseLostError, type CancelRequests, type JobListFilter, type JobStore } from '../jobs/ports.ts';

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
 */
export class KvJobStore implements JobStore {
  /** Revision of this process's last write of each job it writes. */
  private readonly revisions = new Map<string, number>();
  private readonly chains = new Map<string, Promise<unknown>>();

  /**
   * `bucket` is the KV bucket's name: `list` asks `jsm` for the keys of its
   * stream (`KV_<bucket>`) at one instant.
   */
  constructor(
    private readonly kv: KV,
    private readonly blobs: ObjectStore,
    private readonly keysOf: { jsm: JetStreamManager; bucket: string },
  ) {}

  async create(job: JobRecord): Promise<JobRecord> {
    if (job.spec.conditioning) await this.blobs.putBlob({ name: conditioningBlob(job.id) }, Buffer.from(JSON.stringify(job.spec.conditioning)));
    const rev = await this.kv.create(jobKey(job.id), encode(job, 'queued'));
    if (job.clientRequestId) {
      try {
        await this.kv.create(requestKey(job.clientRequestId), job.id);
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Another submit claimed the id first: drop this record, answer with that job.
        await this.kv.purge(jobKey(job.id));
        if (job.spec.conditioning) await this.blobs.delete(conditioningBlob(job.id)).catch(() => undefined);
        const earlier = await this.findByClientRequestId(job.clientRequestId);
        if (!earlier) throw new Error(`client request id ${job.clientRequestId} is claimed by a job that no longer exists`, { cause: err });
        return earlier;
      }
    }
    this.revisions.set(job.id, rev);
    return structuredClone(job);
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
