import type { JobRecord } from '../../coordinator/jobs/job.ts';
import type { ValidSpec } from '../../coordinator/jobs/spec.ts';

/** A spec with only what the store and manager tests read. */
export const RECORD_SPEC = { model: 'field-mixture', frames: 16, height: 128, width: 128, steps: 4, priority: 0, output: { format: 'latent' } } as unknown as ValidSpec;

/** A QUEUED job record for store and manager tests; `fields` override any part of it. */
export function jobRecord(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    spec: RECORD_SPEC,
    state: 'QUEUED',
    progress: { step: 0, totalSteps: 4, picardIteration: 0, evaluations: 0, framesEncoded: 0, totalFrames: 0, etaSeconds: 0, stride: 0, errorRatio: 0, picardWindow: 0 },
    error: '',
    createdAtMs: Date.now(),
    startedAtMs: 0,
    finishedAtMs: 0,
    outputBytes: 0,
    outputFormat: 'latent',
    clientRequestId: '',
    metrics: {},
    ...fields,
  };
}
