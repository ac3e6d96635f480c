/**
 * Raw model output -> `(x0Hat, epsHat)` for one step of any scheduler, the
 * way the composite denoiser does it: the model saw `modelInputScale(i) * x_i`,
 * a sample at the scaled noise level `{scale alpha, scale sigma}`, so its
 * output is converted at that level; eps is then re-derived at the unscaled
 * level, `eps = (x - alpha x0) / sigma`.
 *
 * Every scheduler's `step()` and the engines' composite denoiser convert
 * this way, so a scheduler's step is what the engines compute. For Euler's
 * variance-exploding form it reproduces diffusers' `pred_original_sample`
 * (e.g. `x - sigma eps` for epsilon prediction).
 */
import { epsFromX0, toX0, type Denoised, type NoiseLevel } from './prediction.ts';
import type { Scheduler } from './scheduler.ts';

/** The model input for step `i`: `modelInputScale(i) * x`, rounded to float32 (a copy). */
export function modelInput(scheduler: Scheduler, i: number, sample: Float32Array): Float32Array {
  const scale = scheduler.modelInputScale(i);
  const input = Float32Array.from(sample);
  if (scale !== 1) for (let k = 0; k < input.length; k++) input[k] = input[k]! * scale;
  return input;
}

/** Noise level of the model input at step `i`: `{ scale alpha, scale sigma }`. */
export function modelInputLevel(scheduler: Scheduler, i: number): NoiseLevel {
  const level = scheduler.noiseLevel(i);
  const scale = scheduler.modelInputScale(i);
  return scale === 1 ? level : { alpha: level.alpha * scale, sigma: level.sigma * scale };
}

/**
 * Converts `output`, the model's prediction (in `scheduler.predictionType`)
 * for the input `modelInput(scheduler, i, sample)`, to `(x0Hat, epsHat)` of
 * the unscaled `sample`.
 */
export function modelOutputToX0Eps(
  scheduler: Scheduler,
  i: number,
  sample: Float32Array,
  output: Float32Array,
): Denoised {
  const x0 = toX0(scheduler.predictionType, output, modelInput(scheduler, i, sample), modelInputLevel(scheduler, i));
  return { x0, eps: epsFromX0(sample, x0, scheduler.noiseLevel(i)) };
}
