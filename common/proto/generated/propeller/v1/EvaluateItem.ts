// Original file: proto/propeller/v1/denoiser.proto

import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';
import type { PromptMix as _propeller_v1_PromptMix, PromptMix__Output as _propeller_v1_PromptMix__Output } from '../../propeller/v1/PromptMix';

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
   * Conditioning tensors of the conditional branch, by the key of the
   * model's manifest conditioning input (its graph input, or the job tensor
   * of a concatenated image latent), plus the class-weights graph input of
   * class-conditioned models. Per-item shapes: the manifest's; image latents
   * [channels, H, W] at the native window; class weights [K].
   */
  'cond'?: ({[key: string]: _propeller_v1_Tensor});
  /**
   * The unconditional branch of one-batch classifier-free guidance, keyed
   * the same way; a key left out is zeros (time ids: the conditional value).
   * Only with guidance_scale.
   */
  'uncond'?: ({[key: string]: _propeller_v1_Tensor});
  /**
   * Set: the worker runs cond and uncond as one batch and returns
   * uncond + guidance_scale * (cond - uncond). Only for models whose
   * manifest declares guidance.
   */
  'guidanceScale'?: (number | string);
  /**
   * Prompts instead of embeddings, by the key of an `embeddings` input whose
   * manifest entry names a text encoder: the worker encodes them.
   */
  'prompts'?: ({[key: string]: _propeller_v1_PromptMix});
  /**
   * The unconditional branch's prompts (the negative prompt), likewise.
   * Only with guidance_scale.
   */
  'negativePrompts'?: ({[key: string]: _propeller_v1_PromptMix});
  '_guidanceScale'?: "guidanceScale";
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
   * Conditioning tensors of the conditional branch, by the key of the
   * model's manifest conditioning input (its graph input, or the job tensor
   * of a concatenated image latent), plus the class-weights graph input of
   * class-conditioned models. Per-item shapes: the manifest's; image latents
   * [channels, H, W] at the native window; class weights [K].
   */
  'cond': ({[key: string]: _propeller_v1_Tensor__Output});
  /**
   * The unconditional branch of one-batch classifier-free guidance, keyed
   * the same way; a key left out is zeros (time ids: the conditional value).
   * Only with guidance_scale.
   */
  'uncond': ({[key: string]: _propeller_v1_Tensor__Output});
  /**
   * Set: the worker runs cond and uncond as one batch and returns
   * uncond + guidance_scale * (cond - uncond). Only for models whose
   * manifest declares guidance.
   */
  'guidanceScale'?: (number);
  /**
   * Prompts instead of embeddings, by the key of an `embeddings` input whose
   * manifest entry names a text encoder: the worker encodes them.
   */
  'prompts': ({[key: string]: _propeller_v1_PromptMix__Output});
  /**
   * The unconditional branch's prompts (the negative prompt), likewise.
   * Only with guidance_scale.
   */
  'negativePrompts': ({[key: string]: _propeller_v1_PromptMix__Output});
  '_guidanceScale'?: "guidanceScale";
}
