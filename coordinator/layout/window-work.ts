/**
 * A window's work on its way from the composite denoiser to the worker
 * pool: the window with its input, the model timestep and the output array
 * it may be decoded into, and what the windows of one step share.
 */
import type { NoiseLevel } from '../sampling/prediction.ts';
import type { DenoiseHints } from '../sampling/sequential.ts';
import type { AffineX0 } from './merge.ts';
import type { Window } from './types.ts';

/** A window with its input. */
export interface WindowEvaluation {
  window: Window;
  /** Window sample `[C, frames, height, width]`. */
  sample: Float32Array;
  /** Per-window conditioning vector (e.g. prompt-schedule class weights). */
  conditioning: Float32Array;
}

/** One model input of a composite evaluation: a window, its input and the model timestep. */
export interface WindowItem extends WindowEvaluation {
  timestep: number;
  /**
   * An array of the sample's size the raw output may be written into (the
   * pool's EvalItem.output): the evaluator may return it filled, or any
   * other array.
   */
  output?: Float32Array;
}


/**
 * Evaluates the model on a batch of windows; resolves with the raw model
 * outputs (in the model's prediction type), aligned with `items`, each the
 * size of its item's sample.
 */
export type EvaluateWindows = (items: WindowItem[], signal?: AbortSignal, hints?: DenoiseHints) => Promise<Float32Array[]>;

/** What the windows of one step share (CompositeDenoiser.stepInputs). */
export interface StepInputs {
  level: NoiseLevel;
  timestep: number;
  scale: number;
  coefficients: AffineX0;
}
