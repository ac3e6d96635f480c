/**
 * The scheduler contract shared by the sequential and the Picard engines.
 *
 * A scheduler is built from a serialisable config plus the number of
 * inference steps (diffusers' `set_timesteps`), after which it is immutable.
 * One full step is
 *
 *   x_{i+1} = stepDeterministic(i, x_i, x0Hat_i, epsHat_i) + noiseCoefficient(i) * z_i
 *
 * with `z_i` standard normal. Splitting the step this way lets the Picard
 * engine evaluate drifts `stepDeterministic(...) - x_i` in parallel and add
 * pre-drawn noise `c_i z_i` itself, identically to the sequential engine.
 */
import type { NoiseLevel, PredictionType } from './prediction.ts';

/** A configured sampler over `numSteps` inference steps. */
export interface Scheduler<C extends object = object> {
  /** Scheduler family, e.g. `ddim`. */
  readonly kind: string;
  /** Serialisable config; `JSON.parse(JSON.stringify(config))` rebuilds an identical scheduler. */
  readonly config: Readonly<C>;
  /** How the model output is parameterised (from the config). */
  readonly predictionType: PredictionType;
  /** Model timesteps of steps `i = 0..numSteps-1` (what the network is conditioned on). */
  readonly timesteps: readonly number[];
  /** Number of inference steps. */
  readonly numSteps: number;
  /** Scale of the initial noise `x_0 = initNoiseSigma * z` (1 for VP schedulers). */
  readonly initNoiseSigma: number;
  /**
   * Noise level of `x_i`: `x_i = alpha x0 + sigma eps`, for `i` in
   * `[0, numSteps]` (`numSteps` is where the last step lands). The composite
   * denoiser converts window outputs with it; the Picard engine derives its
   * error scales from consecutive levels.
   */
  noiseLevel(i: number): NoiseLevel;
  /**
   * Factor applied to `x_i` before it goes into the model (diffusers'
   * `scale_model_input`): 1 for VP and flow schedulers, `1/sqrt(sigma^2+1)`
   * for Euler's variance-exploding form.
   */
  modelInputScale(i: number): number;
  /**
   * Deterministic part of step `i`: `x_{i+1} - c_i z_i`. Writes into `out`
   * when given and returns it. Elementwise, so `out` may be any of the inputs.
   */
  stepDeterministic(
    i: number,
    sample: Float32Array,
    x0Hat: Float32Array,
    epsHat: Float32Array,
    out?: Float32Array,
  ): Float32Array;
  /** Coefficient `c_i` of the fresh standard-normal noise step `i` adds; 0 for deterministic steps. */
  noiseCoefficient(i: number): number;
}

/**
 * Adds `c * z` to `x` in place (float64 product, one rounding to float32).
 * Both engines add step noise through this function so their results agree
 * bit for bit.
 */
export function addScaledNoise(x: Float32Array, c: number, z: Float32Array): Float32Array {
  if (z.length !== x.length) throw new RangeError(`noise has ${z.length} elements, sample has ${x.length}`);
  for (let k = 0; k < x.length; k++) x[k] = x[k]! + c * z[k]!;
  return x;
}

/** Throws a RangeError unless `i` is a step index of a scheduler with `numSteps` steps. */
export function checkStepIndex(i: number, numSteps: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= numSteps) {
    throw new RangeError(`step index ${i} is outside [0, ${numSteps})`);
  }
}
