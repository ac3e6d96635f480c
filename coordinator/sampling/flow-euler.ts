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
import { parseFlowEulerConfig, type FlowEulerConfig, type FlowEulerConfigInput } from './flow-euler-config.ts';
import { flowNoiseLevel } from './prediction.ts';
import { checkNumInferenceSteps, TabulatedScheduler } from './scheduler-step.ts';

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
export class FlowEulerScheduler extends TabulatedScheduler<FlowEulerConfig> {
  readonly kind = 'flow_euler';
  /** sigma_0 = 1 .. sigma_n = 0 (float64). */
  readonly sigmas: readonly number[];

  /**
   * @param config any subset of {@link FlowEulerConfig}; missing fields take
   *   {@link DEFAULT_FLOW_EULER_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, >= 1 (sigmas are
   *   continuous, so there is no upper bound).
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: FlowEulerConfigInput | Readonly<FlowEulerConfig>, numInferenceSteps: number) {
    const parsed = parseFlowEulerConfig(config);
    const { numTrainTimesteps: T, shift } = parsed;
    const n = numInferenceSteps;
    checkNumInferenceSteps(n);
    const sigmas = flowSigmas(T, n, shift);
    const timesteps = sigmas.map((s) => s * T);
    sigmas.push(0);
    super({
      config: parsed,
      predictionType: 'flow',
      // sigma_i * T, fractional
      timesteps,
      // { 1 - sigma_i, sigma_i }; the last is the clean level { 1, 0 }
      levels: sigmas.map(flowNoiseLevel),
      // x at step 0 is pure noise (sigma_0 = 1)
      initNoiseSigma: 1,
    });
    this.sigmas = Object.freeze(sigmas);
  }

  /**
   * 1. velocity `v = epsHat - x0Hat`;
   * 2. `x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v`.
   */
  protected applyStep(i: number, sample: Float32Array, x0Hat: Float32Array, epsHat: Float32Array, dst: Float32Array): void {
    const dt = this.sigmas[i + 1]! - this.sigmas[i]!;
    for (let k = 0; k < dst.length; k++) dst[k] = sample[k]! + dt * (epsHat[k]! - x0Hat[k]!);
  }
}
