// Original file: proto/propeller/v1/jobs.proto

import type { JobState as _propeller_v1_JobState, JobState__Output as _propeller_v1_JobState__Output } from '../../propeller/v1/JobState';

export interface ListJobsRequest {
  /**
   * Only these states; all when empty.
   */
  'states'?: (_propeller_v1_JobState)[];
  'limit'?: (number);
}

export interface ListJobsRequest__Output {
  /**
   * Only these states; all when empty.
   */
  'states': (_propeller_v1_JobState__Output)[];
  'limit': (number);
}
