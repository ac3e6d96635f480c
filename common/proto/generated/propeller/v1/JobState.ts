// Original file: proto/propeller/v1/jobs.proto

export const JobState = {
  JOB_STATE_UNSPECIFIED: 'JOB_STATE_UNSPECIFIED',
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  ENCODING: 'ENCODING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
} as const;

export type JobState =
  | 'JOB_STATE_UNSPECIFIED'
  | 0
  | 'QUEUED'
  | 1
  | 'RUNNING'
  | 2
  | 'ENCODING'
  | 3
  | 'SUCCEEDED'
  | 4
  | 'FAILED'
  | 5
  | 'CANCELED'
  | 6

export type JobState__Output = typeof JobState[keyof typeof JobState]
