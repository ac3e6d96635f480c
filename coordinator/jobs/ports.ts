import type { Readable } from 'node:stream';
import type { JobRecord, JobState } from './job.ts';

/** Where job records live. The embedded default keeps them in memory. */
export interface JobStore {
  /**
   * Stores a new job and returns the stored record. When the job carries a
   * client request id that an earlier job already claimed, nothing is stored
   * and the earlier job is returned (idempotent submit, atomic per store).
   */
  create(job: JobRecord): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Replaces the record; the caller holds the only writer for a job. A
   * shared store rejects with {@link LeaseLostError} when someone else
   * wrote the job since this caller last did (its run was taken over).
   */
  put(job: JobRecord, message?: string): Promise<void>;
  /**
   * Read-modify-write of one job, atomic against every other writer: `change`
   * gets the current record and returns the new one, or undefined to leave
   * it. Resolves with what is stored afterwards (undefined: no such job).
   */
  update(id: string, change: (job: JobRecord) => JobRecord | undefined, message?: string): Promise<JobRecord | undefined>;
  /**
   * Each job once, newest first by creation time, ties by id
   * (`coordinator/jobs/list-order.ts`); the filter applies before `limit`.
   * The stores pick a page's jobs from their index and read only those
   * records (and the few whose state changed meanwhile).
   */
  list(filter?: JobListFilter): Promise<JobRecord[]>;
  /** Job created earlier with this client request id, if any. */
  findByClientRequestId(clientRequestId: string): Promise<JobRecord | undefined>;
  /**
   * The tenant's unfinished jobs, from an index the store keeps (constant
   * work, however many records there are; `coordinator/jobs/unfinished-jobs.ts`).
   * This process's own writes count at once; a shared store learns the other
   * coordinators' writes from its watch, a moment later.
   */
  tenantLoad(tenant: string): Promise<TenantLoad>;
  /**
   * Jobs per state, from the same index (`coordinator/jobs/job-index.ts`):
   * constant work, no record read. Exact for this process's own writes; a
   * shared store counts the other coordinators' writes once its watch
   * delivers them.
   */
  counts(): Promise<JobCounts>;
  /**
   * Unfinished jobs per tenant, state and priority, from the same index: what
   * the per-tenant and per-band gauges show, without reading a record.
   */
  unfinishedGroups(): Promise<UnfinishedGroup[]>;
  /**
   * Shared stores only: calls `listener` with the current record and every
   * later version written by any coordinator, with the message written along.
   */
  watch?(id: string, listener: (job: JobRecord, message: string) => void): Promise<() => void>;
}

/** Jobs per state (`JobStore.counts`). */
export type JobCounts = Readonly<Record<JobState, number>>;

/** Unfinished jobs of one tenant ('' without authentication), state and priority (`JobStore.unfinishedGroups`). */
export interface UnfinishedGroup {
  readonly tenant: string;
  readonly state: JobState;
  readonly priority: number;
  readonly jobs: number;
}

/** What `JobStore.tenantLoad` counts. */
export interface TenantLoad {
  /** Jobs QUEUED. */
  readonly queued: number;
  /** Jobs QUEUED, RUNNING or ENCODING. */
  readonly unfinished: number;
}

/** A place in `list` order: the creation time and id of the last job a page showed. */
export interface ListCursor {
  readonly createdAtMs: number;
  readonly id: string;
}

/** What `JobStore.list` keeps. */
export interface JobListFilter {
  /** Only these states; all when absent or empty. */
  readonly states?: readonly JobState[];
  /** Only this tenant's jobs. */
  readonly tenant?: string;
  /** Only jobs after this place in the order (the next page). */
  readonly after?: ListCursor;
  /** At most this many; all when absent or 0. */
  readonly limit?: number;
}

/** A shared store's answer to a write from a run that lost its job to another coordinator. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} was written by another coordinator since this one last did; its run here was taken over`);
  }
}

/**
 * A job taken from the queue. Until `ack` (done, whatever the outcome) or
 * `release` the job is this coordinator's; a durable queue hands it to
 * another coordinator when the lease is not kept alive with `working()`.
 */
export interface JobLease {
  readonly id: string;
  /** How many times the job was handed out before (0 the first time). */
  readonly redeliveries: number;
  /** Keeps the lease alive (a durable queue's ack deadline restarts). */
  working(): void;
  /** The job is finished here; it is never handed out again. */
  ack(): Promise<void>;
  /**
   * Gives the job back unfinished so another coordinator resumes it (graceful
   * shutdown). False when the queue cannot hand it over (in-memory).
   */
  release(): Promise<boolean>;
}

/** Jobs waiting to run, highest priority first, then oldest first. */
export interface JobQueue {
  push(id: string, priority: number): Promise<void>;
  /**
   * Queues again a QUEUED job a Submit stored but may not have queued (the
   * broker went away in between; the client retries with its request id).
   * Shared queues only, and idempotent there (the submission's message id
   * dedupes it); an in-memory queue cannot lose a push.
   */
  requeueStored?(id: string, priority: number): Promise<void>;
  /** Waits for the next job; rejects when the signal aborts. */
  take(signal: AbortSignal): Promise<JobLease>;
  /** Drops a queued job (cancel); true when it was still queued. */
  remove(id: string): Promise<boolean>;
  size(): Promise<number>;
}

/**
 * Cancel requests that reach whichever coordinator runs a job (shared
 * stores). The embedded default cancels in-process and needs none.
 */
export interface CancelRequests {
  /** Records that the job is to stop; idempotent. */
  request(id: string): Promise<void>;
  isRequested(id: string): Promise<boolean>;
  /** Calls `listener` with every job id requested from now on. Returns unsubscribe. */
  subscribe(listener: (id: string) => void): () => void;
  /** Forgets a finished job's request. */
  clear(id: string): Promise<void>;
}

/**
 * Sampler checkpoints of running jobs (the bytes of
 * `coordinator/sampling/checkpoint.ts`), so a job resumes elsewhere.
 */
export interface CheckpointStore {
  save(jobId: string, bytes: Uint8Array): Promise<void>;
  load(jobId: string): Promise<Uint8Array | undefined>;
  /** Idempotent. */
  delete(jobId: string): Promise<void>;
}

/** Where outputs are written and read back. */
export interface ArtifactStore {
  /** A local path to write the job's output to (renamed into place on success). */
  pathFor(jobId: string, ext: string): string;
  /** Records the finished output. */
  commit(jobId: string, path: string): Promise<{ bytes: number }>;
  open(jobId: string): Promise<{ stream: Readable; bytes: number; contentType: string }>;
}

/**
 * Where uploaded inputs wait between Submit and the render that reads them.
 * They are kept out of the job record, which is copied on every event.
 */
export interface InputStore {
  /** Keeps the bytes; resolves with a reference for the job spec. */
  put(data: Uint8Array): Promise<string>;
  /** A private local file holding the input, for ffmpeg (valid until `delete`). */
  path(ref: string): string;
  /** Forgets the input. Idempotent. */
  delete(ref: string): Promise<void>;
  /**
   * Shared stores only: makes `path(ref)` valid on this machine (fetches the
   * input). Their inputs outlive a render, so a job taken over still has it;
   * they are deleted when the job ends.
   */
  materialize?(ref: string): Promise<void>;
}
