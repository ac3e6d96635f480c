// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface EvaluateResponse {
  'outputs'?: (_propeller_v1_Tensor)[];
  /**
   * Time spent inside the model, seconds.
   */
  'computeSeconds'?: (number | string);
}

export interface EvaluateResponse__Output {
  'outputs': (_propeller_v1_Tensor__Output)[];
  /**
   * Time spent inside the model, seconds.
   */
  'computeSeconds': (number);
}
