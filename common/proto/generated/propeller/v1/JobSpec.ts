// Original file: proto/propeller/v1/jobs.proto

import type { PromptSegment as _propeller_v1_PromptSegment, PromptSegment__Output as _propeller_v1_PromptSegment__Output } from '../../propeller/v1/PromptSegment';
import type { SamplerSpec as _propeller_v1_SamplerSpec, SamplerSpec__Output as _propeller_v1_SamplerSpec__Output } from '../../propeller/v1/SamplerSpec';
import type { LayoutSpec as _propeller_v1_LayoutSpec, LayoutSpec__Output as _propeller_v1_LayoutSpec__Output } from '../../propeller/v1/LayoutSpec';
import type { OutputSpec as _propeller_v1_OutputSpec, OutputSpec__Output as _propeller_v1_OutputSpec__Output } from '../../propeller/v1/OutputSpec';
import type { InputMedia as _propeller_v1_InputMedia, InputMedia__Output as _propeller_v1_InputMedia__Output } from '../../propeller/v1/InputMedia';
import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from '../../propeller/v1/Tensor';
import type { PreviewSpec as _propeller_v1_PreviewSpec, PreviewSpec__Output as _propeller_v1_PreviewSpec__Output } from '../../propeller/v1/PreviewSpec';
import type { Long } from '@grpc/proto-loader';

export interface JobSpec {
  'model'?: (string);
  /**
   * A single prompt, or a schedule in prompt_schedule.
   */
  'prompt'?: (string);
  'promptSchedule'?: (_propeller_v1_PromptSegment)[];
  'frames'?: (number);
  'height'?: (number);
  'width'?: (number);
  'fps'?: (number);
  'steps'?: (number);
  /**
   * "ddim" (default)
   */
  'scheduler'?: (string);
  'eta'?: (number | string);
  'seed'?: (number | string | Long);
  'sampler'?: (_propeller_v1_SamplerSpec | null);
  'layout'?: (_propeller_v1_LayoutSpec | null);
  'output'?: (_propeller_v1_OutputSpec | null);
  'priority'?: (number);
  'negativePrompt'?: (string);
  'guidance'?: (number | string);
  /**
   * "text_to_video" (default) | "image_to_video" | "video_to_video" |
   * "extend" | "expand"
   */
  'mode'?: (string);
  'input'?: (_propeller_v1_InputMedia | null);
  /**
   * video_to_video: how much of the schedule is re-run, in [0, 1]; unset
   * means 0.6. 0 returns the input's latent, 1 starts from pure noise.
   */
  'strength'?: (number | string);
  /**
   * Tensors uploaded with the job for models whose manifest forms extra
   * conditioning from them, by the manifest's names: e.g. "prompt_embeds"
   * [77, 768] (or [segments, 77, 768] with a prompt schedule),
   * "negative_prompt_embeds", "image_latents" [C, h, w].
   */
  'conditioning'?: ({[key: string]: _propeller_v1_Tensor});
  /**
   * Live previews of the job's current prediction on Watch (docs/previews.md);
   * absent: none.
   */
  'previews'?: (_propeller_v1_PreviewSpec | null);
  '_strength'?: "strength";
}

export interface JobSpec__Output {
  'model': (string);
  /**
   * A single prompt, or a schedule in prompt_schedule.
   */
  'prompt': (string);
  'promptSchedule': (_propeller_v1_PromptSegment__Output)[];
  'frames': (number);
  'height': (number);
  'width': (number);
  'fps': (number);
  'steps': (number);
  /**
   * "ddim" (default)
   */
  'scheduler': (string);
  'eta': (number);
  'seed': (number);
  'sampler': (_propeller_v1_SamplerSpec__Output | null);
  'layout': (_propeller_v1_LayoutSpec__Output | null);
  'output': (_propeller_v1_OutputSpec__Output | null);
  'priority': (number);
  'negativePrompt': (string);
  'guidance': (number);
  /**
   * "text_to_video" (default) | "image_to_video" | "video_to_video" |
   * "extend" | "expand"
   */
  'mode': (string);
  'input': (_propeller_v1_InputMedia__Output | null);
  /**
   * video_to_video: how much of the schedule is re-run, in [0, 1]; unset
   * means 0.6. 0 returns the input's latent, 1 starts from pure noise.
   */
  'strength'?: (number);
  /**
   * Tensors uploaded with the job for models whose manifest forms extra
   * conditioning from them, by the manifest's names: e.g. "prompt_embeds"
   * [77, 768] (or [segments, 77, 768] with a prompt schedule),
   * "negative_prompt_embeds", "image_latents" [C, h, w].
   */
  'conditioning': ({[key: string]: _propeller_v1_Tensor__Output});
  /**
   * Live previews of the job's current prediction on Watch (docs/previews.md);
   * absent: none.
   */
  'previews': (_propeller_v1_PreviewSpec__Output | null);
  '_strength'?: "strength";
}
