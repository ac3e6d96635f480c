// Original file: proto/propeller/v1/jobs.proto

import type { Job as _propeller_v1_Job, Job__Output as _propeller_v1_Job__Output } from '../../propeller/v1/Job';

export interface JobEvent {
  'job'?: (_propeller_v1_Job | null);
  /**
   * Short human-readable description of what changed.
   */
  'message'?: (string);
}

export interface JobEvent__Output {
  'job': (_propeller_v1_Job__Output | null);
  /**
   * Short human-readable description of what changed.
   */
  'message': (string);
}
