// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface EncodeResponse {
  'latents'?: (_propeller_v1_Tensor | null);
}

export interface EncodeResponse__Output {
  'latents': (_propeller_v1_Tensor__Output | null);
}
