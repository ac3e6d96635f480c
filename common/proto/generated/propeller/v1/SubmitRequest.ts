// Original file: proto/propeller/v1/jobs.proto

import type { JobSpec as _propeller_v1_JobSpec, JobSpec__Output as _propeller_v1_JobSpec__Output } from '../../propeller/v1/JobSpec';

export interface SubmitRequest {
  'spec'?: (_propeller_v1_JobSpec | null);
  /**
   * Idempotent submit: the same id returns the same job.
   */
  'clientRequestId'?: (string);
}

export interface SubmitRequest__Output {
  'spec': (_propeller_v1_JobSpec__Output | null);
  /**
   * Idempotent submit: the same id returns the same job.
   */
  'clientRequestId': (string);
}
