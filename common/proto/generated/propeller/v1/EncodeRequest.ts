// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface EncodeRequest {
  'model'?: (string);
  /**
   * RGB frames [N, 3, H, W], uint8.
   */
  'frames'?: (_propeller_v1_Tensor | null);
}

export interface EncodeRequest__Output {
  'model': (string);
  /**
   * RGB frames [N, 3, H, W], uint8.
   */
  'frames': (_propeller_v1_Tensor__Output | null);
}
