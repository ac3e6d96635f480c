// Original file: proto/propeller/v1/jobs.proto

import type { Job as _propeller_v1_Job, Job__Output as _propeller_v1_Job__Output } from '../../propeller/v1/Job';
import type { JobPreview as _propeller_v1_JobPreview, JobPreview__Output as _propeller_v1_JobPreview__Output } from '../../propeller/v1/JobPreview';

export interface JobEvent {
  'job'?: (_propeller_v1_Job | null);
  /**
   * Short human-readable description of what changed.
   */
  'message'?: (string);
  /**
   * A live preview (jobs with spec.previews): on "preview" events, and on
   * the SUCCEEDED event as a contact sheet of the finished video.
   */
  'preview'?: (_propeller_v1_JobPreview | null);
}

export interface JobEvent__Output {
  'job': (_propeller_v1_Job__Output | null);
  /**
   * Short human-readable description of what changed.
   */
  'message': (string);
  /**
   * A live preview (jobs with spec.previews): on "preview" events, and on
   * the SUCCEEDED event as a contact sheet of the finished video.
   */
  'preview': (_propeller_v1_JobPreview__Output | null);
}
