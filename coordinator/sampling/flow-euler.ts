/**
 * Euler sampling of rectified-flow models (SD3, Wan, LTX-Video) with
 * diffusers' `FlowMatchEulerDiscreteScheduler` semantics:
 * `x_t = (1 - t) x0 + t eps`, velocity `v = eps - x0`,
 * `x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v`.
 *
 * Sigma schedule, as diffusers builds it:
 * 1. at construction diffusers shifts the training sigmas `k / T`, so its
 *    `sigma_max = shift(1) = 1` and `sigma_min = shift(1 / T)`;
 * 2. `set_timesteps(n)`: `linspace(sigma_max T, sigma_min T, n) / T`, then
 *    shifted again. The low end is thus shifted twice (shift 3, T = 1000:
 *    the last sigma is shift(shift(0.001)) = 1/112, not shift(0.001) = 1/334);
 *    we keep that, since it is what the models are sampled with;
 * 3. a final sigma of 0; model timesteps `sigma * T` (fractional).
 *
 * Deterministic: the noise coefficient is 0.
 */
import { checkNumInferenceSteps } from './config-fields.ts';
import { parseFlowEulerConfig, type FlowEulerConfig, type FlowEulerConfigInput } from './flow-euler-config.ts';
import { modelOutputToX0Eps } from './model-output.ts';
import { flowNoiseLevel, type NoiseLevel, type PredictionType } from './prediction.ts';
import { checkStepIndex, type Scheduler, stepOutput } from './scheduler.ts';

/** The timestep shift `shift sigma / (1 + (shift - 1) sigma)` (SD3, eq. (23) of arXiv:2403.03206). */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

/**
 * The `n` inference sigmas of `set_timesteps(n)` (without the final 0),
 * descending from 1: `shift(linspace(T sigma_max, T sigma_min, n) / T)` with
 * diffusers' already-shifted `sigma_max = shift(1)`, `sigma_min = shift(1 / T)`.
 */
export function flowSigmas(numTrainTimesteps: number, n: number, shift: number): number[] {
  const T = numTrainTimesteps;
  const start = shiftSigma(1, shift) * T;
  const stop = shiftSigma(1 / T, shift) * T;
  // np.linspace(start, stop, n): start + i * ((stop - start) / (n - 1)), the last pinned to stop
  const step = n > 1 ? (stop - start) / (n - 1) : 0;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = n > 1 && i === n - 1 ? stop : i * step + start;
    out[i] = shiftSigma(t / T, shift);
  }
  return out;
}

/** Flow-matching Euler scheduler configured for a number of inference steps. */
export class FlowEulerScheduler implements Scheduler<FlowEulerConfig> {
  readonly kind = 'flow_euler';
  readonly config: Readonly<FlowEulerConfig>;
  readonly predictionType: PredictionType = 'flow';
  /** `sigma_i * T`, fractional. */
  readonly timesteps: readonly number[];
  readonly numSteps: number;
  /** x at step 0 is pure noise (sigma_0 = 1). */
  readonly initNoiseSigma = 1;
  /** sigma_0 = 1 .. sigma_n = 0 (float64). */
  readonly sigmas: readonly number[];
  private readonly levels: readonly NoiseLevel[];

  /**
   * @param config any subset of {@link FlowEulerConfig}; missing fields take
   *   {@link DEFAULT_FLOW_EULER_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, >= 1 (sigmas are
   *   continuous, so there is no upper bound).
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: FlowEulerConfigInput | Readonly<FlowEulerConfig>, numInferenceSteps: number) {
    this.config = parseFlowEulerConfig(config);
    const { numTrainTimesteps: T, shift } = this.config;
    const n = numInferenceSteps;
    checkNumInferenceSteps(n);
    const sigmas = flowSigmas(T, n, shift);
    this.timesteps = Object.freeze(sigmas.map((s) => s * T));
    sigmas.push(0);
    this.sigmas = Object.freeze(sigmas);
    this.numSteps = n;
    this.levels = Object.freeze(sigmas.map((s) => Object.freeze(flowNoiseLevel(s))));
  }

  /** `{ alpha: 1 - sigma_i, sigma: sigma_i }`; `i = numSteps` is the clean level `{1, 0}`. */
  noiseLevel(i: number): NoiseLevel {
    checkStepIndex(i, this.numSteps + 1);
    return this.levels[i]!;
  }

  /** Flow samples go into the model as they are. */
  modelInputScale(i: number): number {
    checkStepIndex(i, this.numSteps);
    return 1;
  }

  /** Deterministic: always 0. */
  noiseCoefficient(i: number): number {
    checkStepIndex(i, this.numSteps);
    return 0;
  }

  /**
   * 1. velocity `v = epsHat - x0Hat`;
   * 2. `x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v`.
   * Elementwise, so `out` may be any of the inputs.
   */
  stepDeterministic(
    i: number,
    sample: Float32Array,
    x0Hat: Float32Array,
    epsHat: Float32Array,
    out?: Float32Array,
  ): Float32Array {
    const dst = stepOutput(i, this.numSteps, sample, x0Hat, epsHat, out);
    const n = dst.length;
    const dt = this.sigmas[i + 1]! - this.sigmas[i]!;
    for (let k = 0; k < n; k++) dst[k] = sample[k]! + dt * (epsHat[k]! - x0Hat[k]!);
    return dst;
  }

  /** One full step from a raw velocity prediction (converted to x0Hat/epsHat first, as the engines do). */
  step(
    i: number,
    sample: Float32Array,
    modelOutput: Float32Array,
  ): { prevSample: Float32Array; predOriginalSample: Float32Array } {
    const { x0, eps } = modelOutputToX0Eps(this, i, sample, modelOutput);
    return { prevSample: this.stepDeterministic(i, sample, x0, eps), predOriginalSample: x0 };
  }
}
