/**
 * How a job record is kept in the jobs KV bucket: its keys, and the value
 * (the record and the message of the write that produced it).
 */
import { createHash } from 'node:crypto';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { KvEntry } from '@nats-io/kv';
import type { JobRecord } from '../jobs/job.ts';

/**
 * A KV value: the record and the message of the write that produced it (what
 * Watch shows). Uploaded conditioning tensors (megabytes, and the record is
 * rewritten on every progress event) are kept once in the object store; the
 * KV copy keeps their shapes only and `blob` says where the values are.
 */
export interface StoredJob {
  job: JobRecord;
  message: string;
  blob?: string;
}

/** JetStream's answer to a compare-and-set against a newer revision. */
const WRONG_LAST_SEQUENCE = 10071;

/** A compare-and-set (create, update) found a newer revision. */
export function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

/** Key prefix of job records; `job.*` is what the index watches. */
export const JOB_KEY_PREFIX = 'job.';
export const jobKey = (id: string) => `${JOB_KEY_PREFIX}${id}`;
export const requestKey = (clientRequestId: string) => `req.${createHash('sha256').update(clientRequestId).digest('hex')}`;
export const conditioningBlob = (id: string) => `specs/${id}/conditioning`;

export function encodeJob(job: JobRecord, message: string): string {
  const c = job.spec.conditioning;
  if (!c) return JSON.stringify({ job, message } satisfies StoredJob);
  const shapesOnly = Object.fromEntries(Object.entries(c).map(([k, t]) => [k, { shape: t.shape, data: '' }]));
  return JSON.stringify({ job: { ...job, spec: { ...job.spec, conditioning: shapesOnly } }, message, blob: conditioningBlob(job.id) } satisfies StoredJob);
}

export function decodeJob(e: KvEntry): StoredJob {
  return e.json<StoredJob>();
}
