/**
 * Euler sampling of the probability-flow ODE in the variance-exploding form
 * `x = x0 + sigma eps`, sigma = sqrt((1 - abar)/abar) (Karras et al.,
 * arXiv:2206.00364, Algorithm 1 without churn), with diffusers'
 * `EulerDiscreteScheduler` semantics:
 *
 * - timesteps: leading/trailing as DDIM (integers); linspace unrounded
 *   (`np.linspace(0, T-1, n)`, fractional); sigmas linearly interpolated
 *   over the training sigmas at those timesteps;
 * - Karras sigmas (rho = 7) between the first and last spaced sigma, their
 *   timesteps recovered by `_sigma_to_t` (fractional);
 * - a final sigma of 0 (or sigma(t = 0) for `finalSigmasType: 'sigma_min'`);
 * - the model sees `x / sqrt(sigma^2 + 1)` (`scale_model_input`);
 * - `init_noise_sigma`: `sigma_max` for linspace/trailing spacing, and
 *   `sqrt(sigma_max^2 + 1)` for leading (diffusers' rule, kept as is).
 *
 * Deterministic only (s_churn = 0): the noise coefficient is 0.
 */
import { alphasCumprod } from '../../common/noise-schedule.ts';
import { checkFirstTimestep, checkNumInferenceSteps } from './config-fields.ts';
import { SchedulerConfigError } from './errors.ts';
import { parseEulerConfig, type EulerConfig, type EulerConfigInput } from './euler-config.ts';
import { interpAtTimestep, karrasSigmas, linspaceTimesteps, sigmaToT, trainingSigmas } from './euler-sigmas.ts';
import { modelOutputToX0Eps } from './model-output.ts';
import type { NoiseLevel, PredictionType } from './prediction.ts';
import { checkStepIndex, type Scheduler, stepOutput } from './scheduler.ts';
import { spacedTimesteps } from './timestep-spacing.ts';

/** Euler scheduler configured for a number of inference steps. */
export class EulerScheduler implements Scheduler<EulerConfig> {
  readonly kind = 'euler';
  readonly config: Readonly<EulerConfig>;
  readonly predictionType: PredictionType;
  /** Model timesteps; fractional for linspace spacing and Karras sigmas. */
  readonly timesteps: readonly number[];
  readonly numSteps: number;
  readonly initNoiseSigma: number;
  /** sigma_0 .. sigma_n (float64), the last one where the last step lands. */
  readonly sigmas: readonly number[];
  private readonly levels: readonly NoiseLevel[];

  /**
   * @param config any subset of {@link EulerConfig}; missing fields take
   *   {@link DEFAULT_EULER_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, 1..numTrainTimesteps.
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: EulerConfigInput | Readonly<EulerConfig>, numInferenceSteps: number) {
    this.config = parseEulerConfig(config);
    const { trainSchedule, timestepSpacing, stepsOffset, useKarrasSigmas, finalSigmasType } = this.config;
    const T = trainSchedule.numTrainTimesteps;
    const n = numInferenceSteps;
    checkNumInferenceSteps(n, T);
    if (useKarrasSigmas && T < 2) {
      throw new SchedulerConfigError('useKarrasSigmas', 'useKarrasSigmas needs trainSchedule.numTrainTimesteps >= 2');
    }

    // 1. timesteps, as set_timesteps spaces them
    let timesteps =
      timestepSpacing === 'linspace' ? linspaceTimesteps(T, n) : spacedTimesteps(timestepSpacing, T, n, stepsOffset);
    checkFirstTimestep(timesteps[0]!, T, stepsOffset);

    // 2. sigmas at those timesteps (np.interp over the training sigmas)
    const train = trainingSigmas(alphasCumprod(trainSchedule));
    let sigmas = timesteps.map((t) => interpAtTimestep(train, t));

    // 3. Karras sigmas between the spaced ends, timesteps back through _sigma_to_t
    if (useKarrasSigmas) {
      sigmas = karrasSigmas(sigmas[n - 1]!, sigmas[0]!, n);
      const logSigmas = Array.from(train, Math.log);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
    }

    // 4. the final sigma
    sigmas.push(finalSigmasType === 'zero' ? 0 : train[0]!);

    this.timesteps = Object.freeze(timesteps);
    this.sigmas = Object.freeze(sigmas);
    this.numSteps = n;
    this.predictionType = this.config.predictionType;
    const maxSigma = Math.max(...sigmas);
    this.initNoiseSigma = timestepSpacing === 'leading' ? Math.sqrt(maxSigma * maxSigma + 1) : maxSigma;
    this.levels = Object.freeze(sigmas.map((sigma) => Object.freeze({ alpha: 1, sigma })));
  }

  /** `{ alpha: 1, sigma: sigma_i }`: `x_i = x0 + sigma_i eps`; `i = numSteps` gives the final sigma. */
  noiseLevel(i: number): NoiseLevel {
    checkStepIndex(i, this.numSteps + 1);
    return this.levels[i]!;
  }

  /** `1 / sqrt(sigma_i^2 + 1)` (diffusers' `scale_model_input`). */
  modelInputScale(i: number): number {
    checkStepIndex(i, this.numSteps);
    const s = this.sigmas[i]!;
    return 1 / Math.sqrt(s * s + 1);
  }

  /** Deterministic Euler: always 0. */
  noiseCoefficient(i: number): number {
    checkStepIndex(i, this.numSteps);
    return 0;
  }

  /**
   * 2. ODE derivative `d = (x - x0Hat) / sigma_i = epsHat`;
   * 3. `x_{i+1} = x_i + (sigma_{i+1} - sigma_i) d`.
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
    for (let k = 0; k < n; k++) dst[k] = sample[k]! + dt * epsHat[k]!;
    return dst;
  }

  /**
   * One full diffusers-style step: `modelOutput` is the model's prediction
   * for the scaled input `x / sqrt(sigma^2 + 1)`; 1. convert to x0Hat
   * (`x - sigma eps` for epsilon), 2-3. Euler step.
   */
  step(
    i: number,
    sample: Float32Array,
    modelOutput: Float32Array,
  ): { prevSample: Float32Array; predOriginalSample: Float32Array } {
    const { x0, eps } = modelOutputToX0Eps(this, i, sample, modelOutput);
    return { prevSample: this.stepDeterministic(i, sample, x0, eps), predOriginalSample: x0 };
  }
}
