// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface DecodeRequest {
  /**
   * The denoiser whose VAE decodes (its manifest names the decoder).
   */
  'model'?: (string);
  /**
   * Latent frames [N, C, h, w].
   */
  'latents'?: (_propeller_v1_Tensor | null);
}

export interface DecodeRequest__Output {
  /**
   * The denoiser whose VAE decodes (its manifest names the decoder).
   */
  'model': (string);
  /**
   * Latent frames [N, C, h, w].
   */
  'latents': (_propeller_v1_Tensor__Output | null);
}
