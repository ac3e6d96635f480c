// Original file: proto/propeller/v1/denoiser.proto

import type { WeightedPrompt as _propeller_v1_WeightedPrompt, WeightedPrompt__Output as _propeller_v1_WeightedPrompt__Output } from '../../propeller/v1/WeightedPrompt';

/**
 * The prompts of one text-encoder input: the embedding fed to the model is
 * the weighted mean of their embeddings (a window straddling a
 * prompt-schedule change mixes both prompts by its frames).
 */
export interface PromptMix {
  'prompts'?: (_propeller_v1_WeightedPrompt)[];
}

/**
 * The prompts of one text-encoder input: the embedding fed to the model is
 * the weighted mean of their embeddings (a window straddling a
 * prompt-schedule change mixes both prompts by its frames).
 */
export interface PromptMix__Output {
  'prompts': (_propeller_v1_WeightedPrompt__Output)[];
}
