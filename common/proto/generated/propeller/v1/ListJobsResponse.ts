// Original file: proto/propeller/v1/jobs.proto

import type { Job as _propeller_v1_Job, Job__Output as _propeller_v1_Job__Output } from '../../propeller/v1/Job';

export interface ListJobsResponse {
  'jobs'?: (_propeller_v1_Job)[];
  /**
   * Token of the next page; empty when this page is the last.
   */
  'nextPageToken'?: (string);
}

export interface ListJobsResponse__Output {
  'jobs': (_propeller_v1_Job__Output)[];
  /**
   * Token of the next page; empty when this page is the last.
   */
  'nextPageToken': (string);
}
