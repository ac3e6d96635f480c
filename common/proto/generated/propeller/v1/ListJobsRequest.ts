// Original file: proto/propeller/v1/jobs.proto

import type { JobState as _propeller_v1_JobState, JobState__Output as _propeller_v1_JobState__Output } from '../../propeller/v1/JobState';

/**
 * Jobs newest first by creation time, ties by id, each once; paginated as in AIP-158.
 */
export interface ListJobsRequest {
  /**
   * Only these states; all when empty. A page_token holds only for the states it was issued with.
   */
  'states'?: (_propeller_v1_JobState)[];
  /**
   * Older name of page_size, kept for old clients; when both are set they must be equal.
   */
  'limit'?: (number);
  /**
   * Most jobs in this page (at most 10000); 0: 10000.
   */
  'pageSize'?: (number);
  /**
   * next_page_token of the previous page; empty for the first page. Opaque.
   */
  'pageToken'?: (string);
}

/**
 * Jobs newest first by creation time, ties by id, each once; paginated as in AIP-158.
 */
export interface ListJobsRequest__Output {
  /**
   * Only these states; all when empty. A page_token holds only for the states it was issued with.
   */
  'states': (_propeller_v1_JobState__Output)[];
  /**
   * Older name of page_size, kept for old clients; when both are set they must be equal.
   */
  'limit': (number);
  /**
   * Most jobs in this page (at most 10000); 0: 10000.
   */
  'pageSize': (number);
  /**
   * next_page_token of the previous page; empty for the first page. Opaque.
   */
  'pageToken': (string);
}
