// Original file: proto/propeller/v1/jobs.proto

import type { ModelStatus as _propeller_v1_ModelStatus, ModelStatus__Output as _propeller_v1_ModelStatus__Output } from '../../propeller/v1/ModelStatus';

export interface ListModelsResponse {
  'models'?: (_propeller_v1_ModelStatus)[];
}

export interface ListModelsResponse__Output {
  'models': (_propeller_v1_ModelStatus__Output)[];
}
