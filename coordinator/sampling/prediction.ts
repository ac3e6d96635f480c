/**
 * Model output parameterisations and their conversion to `(x0Hat, epsHat)`.
 *
 * Every scheduler and the composite denoiser convert the raw model output
 * with {@link toX0} (and {@link epsFromX0}), so each parameterisation is
 * written exactly once.
 *
 * Noise levels are given as `{ alpha, sigma }` with `x_t = alpha x0 + sigma eps`:
 * - VP diffusion: `alpha = sqrt(abar_t)`, `sigma = sqrt(1 - abar_t)`;
 * - rectified flow: `alpha = 1 - t`, `sigma = t` (see {@link flowNoiseLevel}).
 * With this shared form the inverse `eps = (x - alpha x0) / sigma` is the same
 * for every model family.
 */

/** What the network predicts. */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction' | 'flow';

/** All prediction types, for validation and CLI help. */
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'sample', 'v_prediction', 'flow'];

/** Noise level of a sample: `x = alpha * x0 + sigma * eps`. */
export interface NoiseLevel {
  readonly alpha: number;
  readonly sigma: number;
}

/** Output buffers of a conversion. */
export interface Denoised {
  x0: Float32Array;
  eps: Float32Array;
}

/** VP noise level from `abar_t` (alphas_cumprod at the model timestep). */
export function vpNoiseLevel(alphaProd: number): NoiseLevel {
  return { alpha: Math.sqrt(alphaProd), sigma: Math.sqrt(1 - alphaProd) };
}

/** Rectified-flow noise level at time `t` in [0, 1]: `x_t = (1 - t) x0 + t eps`. */
export function flowNoiseLevel(t: number): NoiseLevel {
  return { alpha: 1 - t, sigma: t };
}

/**
 * `x0Hat` from a raw model output at noise level `level`:
 *
 * - `epsilon`: `x0 = (x - sigma eps) / alpha`
 * - `sample`: the output itself
 * - `v_prediction` (VP only, `v = alpha eps - sigma x0`, `alpha^2 + sigma^2 = 1`): `x0 = alpha x - sigma v`
 * - `flow` (`v = eps - x0`, `t = level.sigma`): `x0 = x - t v`
 *
 * With {@link epsFromX0} this is the one conversion of a model output to
 * `(x0Hat, epsHat)` (model-output.ts puts them together per scheduler step);
 * the composite denoiser merges x0 across windows first and re-derives eps
 * globally, so it never needs a per-window eps. Coefficients are float64;
 * results round once to float32.
 */
export function toX0(
  type: PredictionType,
  output: Float32Array,
  sample: Float32Array,
  level: NoiseLevel,
  out?: Float32Array,
): Float32Array {
  const n = sample.length;
  if (output.length !== n) {
    throw new RangeError(`model output has ${output.length} elements, sample has ${n}`);
  }
  const x0 = out ?? new Float32Array(n);
  const { alpha: a, sigma: s } = level;
  switch (type) {
    case 'epsilon':
      for (let k = 0; k < n; k++) x0[k] = (sample[k]! - s * output[k]!) / a;
      break;
    case 'sample':
      x0.set(output);
      break;
    case 'v_prediction':
      for (let k = 0; k < n; k++) x0[k] = a * sample[k]! - s * output[k]!;
      break;
    case 'flow':
      for (let k = 0; k < n; k++) x0[k] = sample[k]! - s * output[k]!;
      break;
  }
  return x0;
}

/** `eps = (x - alpha x0) / sigma`, the noise implied by a sample and its x0 estimate. */
export function epsFromX0(
  sample: Float32Array,
  x0: Float32Array,
  level: NoiseLevel,
  out?: Float32Array,
): Float32Array {
  const n = sample.length;
  if (x0.length !== n) throw new RangeError(`x0 has ${x0.length} elements, sample has ${n}`);
  const eps = out ?? new Float32Array(n);
  const { alpha: a, sigma: s } = level;
  for (let k = 0; k < n; k++) eps[k] = (sample[k]! - a * x0[k]!) / s;
  return eps;
}

/**
 * The coefficients of `toX0` as one affine form, x0 = (p x - q out) / d,
 * for a fused convert-and-merge (layout/merge.ts). Each form evaluates to
 * the same float64 value as the matching `toX0` case (1 * x = x and
 * z / 1 = z exactly; for 'sample', 0 * x - (-1) * out = out for finite x).
 */
export function x0Coefficients(type: PredictionType, level: NoiseLevel): { p: number; q: number; d: number } {
  const { alpha: a, sigma: s } = level;
  switch (type) {
    case 'epsilon':
      return { p: 1, q: s, d: a };
    case 'sample':
      return { p: 0, q: -1, d: 1 };
    case 'v_prediction':
      return { p: a, q: s, d: 1 };
    case 'flow':
      return { p: 1, q: s, d: 1 };
  }
}
