// Original file: proto/propeller/v1/jobs.proto

import type { WorkerStatus as _propeller_v1_WorkerStatus, WorkerStatus__Output as _propeller_v1_WorkerStatus__Output } from '../../propeller/v1/WorkerStatus';

export interface ListWorkersResponse {
  'workers'?: (_propeller_v1_WorkerStatus)[];
}

export interface ListWorkersResponse__Output {
  'workers': (_propeller_v1_WorkerStatus__Output)[];
}
