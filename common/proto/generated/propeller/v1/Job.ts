// Original file: proto/propeller/v1/jobs.proto

import type { JobSpec as _propeller_v1_JobSpec, JobSpec__Output as _propeller_v1_JobSpec__Output } from '../../propeller/v1/JobSpec';
import type { JobState as _propeller_v1_JobState, JobState__Output as _propeller_v1_JobState__Output } from '../../propeller/v1/JobState';
import type { JobProgress as _propeller_v1_JobProgress, JobProgress__Output as _propeller_v1_JobProgress__Output } from '../../propeller/v1/JobProgress';
import type { Long } from '@grpc/proto-loader';

export interface Job {
  'id'?: (string);
  'spec'?: (_propeller_v1_JobSpec | null);
  'state'?: (_propeller_v1_JobState);
  'progress'?: (_propeller_v1_JobProgress | null);
  'error'?: (string);
  /**
   * Unix milliseconds.
   */
  'createdAtMs'?: (number | string | Long);
  'startedAtMs'?: (number | string | Long);
  'finishedAtMs'?: (number | string | Long);
  'outputBytes'?: (number | string | Long);
  'outputFormat'?: (string);
  'clientRequestId'?: (string);
  /**
   * Measurements of the finished job, e.g. "seam_temporal".
   */
  'metrics'?: ({[key: string]: number | string});
}

export interface Job__Output {
  'id': (string);
  'spec': (_propeller_v1_JobSpec__Output | null);
  'state': (_propeller_v1_JobState__Output);
  'progress': (_propeller_v1_JobProgress__Output | null);
  'error': (string);
  /**
   * Unix milliseconds.
   */
  'createdAtMs': (number);
  'startedAtMs': (number);
  'finishedAtMs': (number);
  'outputBytes': (number);
  'outputFormat': (string);
  'clientRequestId': (string);
  /**
   * Measurements of the finished job, e.g. "seam_temporal".
   */
  'metrics': ({[key: string]: number});
}
