/**
 * A window's work, the one type it keeps from the composite denoiser to the
 * worker pool: the window with its input, the model timestep, its
 * conditioning and the output array it may be decoded into. The layout
 * makes it, job conditioning may split it in two (two-batch guidance), the
 * dispatcher queues and ships it, and the wire codec (cluster/wire-batch.ts)
 * maps it to one Evaluate item.
 */
import type { NoiseLevel } from '../sampling/prediction.ts';
import type { DenoiseHints } from '../sampling/sequential.ts';
import type { AffineX0 } from './merge.ts';
import type { Window } from './types.ts';

/** One conditioning input of a window, float32 on the coordinator. */
export interface ConditioningTensor {
  readonly data: Float32Array;
  /** Per-item shape (no batch axis). */
  readonly shape: readonly number[];
  /**
   * Sent as float32 whatever the wire dtype: values float16 would round
   * (class weights such as 1/6); others travel in the latents' wire dtype.
   */
  readonly exact?: boolean;
}

/** One prompt of a text-encoder input and its share of the mix. */
export interface WeightedPrompt {
  readonly text: string;
  readonly weight: number;
}

/** Conditioning inputs by the key of the model's manifest conditioning input (or its class-weights graph input). */
export type NamedConditioning = Readonly<Record<string, ConditioningTensor>>;

/** Prompts a text encoder on the worker turns into an embeddings input, by that input's key. */
export type NamedPrompts = Readonly<Record<string, readonly WeightedPrompt[]>>;

/** Everything a window is conditioned on (coordinator/conditioning forms it from the job). */
export interface WindowConditioning {
  readonly cond: NamedConditioning;
  readonly prompts?: NamedPrompts;
  /**
   * Classifier-free guidance in one batch: the worker evaluates the
   * unconditional inputs beside the conditional ones and returns
   * uncond + scale * (cond - uncond).
   */
  readonly guidance?: { readonly scale: number; readonly uncond: NamedConditioning; readonly negativePrompts?: NamedPrompts };
}

/** One model evaluation of one window. */
export interface WindowWork {
  readonly window: Window;
  /** Window sample `[C, frames, height, width]` (scaled for the model). */
  readonly sample: Float32Array;
  /** Model timestep (training-schedule units). */
  readonly timestep: number;
  readonly conditioning?: WindowConditioning;
  /**
   * An array of the sample's size the first answer may be decoded into;
   * absent, or when a later copy answers, a fresh array. The caller must not
   * read it before the evaluation resolves.
   */
  readonly output?: Float32Array;
}

/** The sample's shape `[C, frames, height, width]` of a work item. */
export function workShape(work: WindowWork): number[] {
  const { frames, height, width } = work.window;
  return [work.sample.length / (frames * height * width), frames, height, width];
}

/**
 * Evaluates the model on a batch of windows; resolves with the raw model
 * outputs (in the model's prediction type), aligned with `items`, each the
 * size of its item's sample.
 */
export type EvaluateWindows = (items: WindowWork[], signal?: AbortSignal, hints?: DenoiseHints) => Promise<Float32Array[]>;

/** What the windows of one step share (CompositeDenoiser.stepInputs). */
export interface StepInputs {
  level: NoiseLevel;
  timestep: number;
  scale: number;
  coefficients: AffineX0;
}
