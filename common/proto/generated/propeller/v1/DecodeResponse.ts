// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface DecodeResponse {
  /**
   * RGB frames [N, 3, H, W] as uint8 or float.
   */
  'frames'?: (_propeller_v1_Tensor | null);
}

export interface DecodeResponse__Output {
  /**
   * RGB frames [N, 3, H, W] as uint8 or float.
   */
  'frames': (_propeller_v1_Tensor__Output | null);
}
