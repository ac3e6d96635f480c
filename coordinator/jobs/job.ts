import type { ValidSpec } from './spec.ts';

/** Every job state, in lifecycle order (the API's, the metrics' and the store's one list). */
export const JOB_STATES = ['QUEUED', 'RUNNING', 'ENCODING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/** Legal state changes; anything else is a bug and throws. */
const NEXT: Record<JobState, readonly JobState[]> = {
  QUEUED: ['RUNNING', 'CANCELED', 'FAILED'],
  RUNNING: ['ENCODING', 'SUCCEEDED', 'FAILED', 'CANCELED'],
  ENCODING: ['SUCCEEDED', 'FAILED', 'CANCELED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELED: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return NEXT[from].includes(to);
}

export interface JobProgress {
  step: number;
  totalSteps: number;
  picardIteration: number;
  evaluations: number;
  framesEncoded: number;
  totalFrames: number;
  etaSeconds: number;
  stride: number;
  errorRatio: number;
  /** Points evaluated in the latest Picard round; 0 for the sequential engine. */
  picardWindow: number;
}

/** A job as the coordinator keeps it. */
export interface JobRecord {
  id: string;
  spec: ValidSpec;
  state: JobState;
  progress: JobProgress;
  error: string;
  createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  outputBytes: number;
  outputFormat: string;
  clientRequestId: string;
  metrics: Record<string, number>;
  /**
   * Tenant that submitted the job (common/auth.ts); '' when authentication
   * is off. Only this tenant and admins see the job.
   */
  tenant?: string;
}

export function emptyProgress(spec: ValidSpec): JobProgress {
  return {
    step: 0,
    totalSteps: spec.steps,
    picardIteration: 0,
    evaluations: 0,
    framesEncoded: 0,
    totalFrames: spec.output.format === 'latent' ? 0 : spec.frames,
    etaSeconds: 0,
    stride: 0,
    errorRatio: 0,
    picardWindow: 0,
  };
}
