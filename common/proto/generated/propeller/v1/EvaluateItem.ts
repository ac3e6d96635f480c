// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';

export interface EvaluateItem {
  /**
   * [C, F, H, W] latent window (the worker adds the batch axis).
   */
  'sample'?: (_propeller_v1_Tensor | null);
  /**
   * Model timestep (training-schedule units).
   */
  'timestep'?: (number | string);
  /**
   * Conditioning tensors by graph input role, e.g. "class_weights".
   */
  'conditioning'?: ({[key: string]: _propeller_v1_Tensor});
}

export interface EvaluateItem__Output {
  /**
   * [C, F, H, W] latent window (the worker adds the batch axis).
   */
  'sample': (_propeller_v1_Tensor__Output | null);
  /**
   * Model timestep (training-schedule units).
   */
  'timestep': (number);
  /**
   * Conditioning tensors by graph input role, e.g. "class_weights".
   */
  'conditioning': ({[key: string]: _propeller_v1_Tensor__Output});
}
