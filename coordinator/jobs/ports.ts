import type { Readable } from 'node:stream';
import type { JobRecord, JobState } from './job.ts';

/** Where job records live. The embedded default keeps them in memory. */
export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Replaces the record; the caller holds the only writer for a job. */
  put(job: JobRecord): Promise<void>;
  list(filter?: { states?: readonly JobState[]; limit?: number }): Promise<JobRecord[]>;
  /** Job created earlier with this client request id, if any. */
  findByClientRequestId(clientRequestId: string): Promise<JobRecord | undefined>;
}

/** Jobs waiting to run, highest priority first, then oldest first. */
export interface JobQueue {
  push(id: string, priority: number): Promise<void>;
  /** Waits for the next job id; rejects when the signal aborts. */
  take(signal: AbortSignal): Promise<string>;
  /** Drops a queued job (cancel); true when it was still queued. */
  remove(id: string): Promise<boolean>;
  size(): Promise<number>;
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
}
