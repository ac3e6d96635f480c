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
import { SchedulerConfigError } from './errors.ts';
import { parseEulerConfig, type EulerConfig, type EulerConfigInput } from './euler-config.ts';
import { interpAtTimestep, karrasSigmas, linspaceTimesteps, sigmaToT, trainingSigmas } from './euler-sigmas.ts';
import { TabulatedScheduler, vpTimesteps } from './scheduler-step.ts';
import { spacedTimesteps } from './timestep-spacing.ts';

/** Euler scheduler configured for a number of inference steps. */
export class EulerScheduler extends TabulatedScheduler<EulerConfig> {
  readonly kind = 'euler';
  /** sigma_0 .. sigma_n (float64), the last one where the last step lands. */
  readonly sigmas: readonly number[];

  /**
   * @param config any subset of {@link EulerConfig}; missing fields take
   *   {@link DEFAULT_EULER_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, 1..numTrainTimesteps.
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: EulerConfigInput | Readonly<EulerConfig>, numInferenceSteps: number) {
    const parsed = parseEulerConfig(config);
    const { trainSchedule, timestepSpacing, useKarrasSigmas, finalSigmasType } = parsed;
    const n = numInferenceSteps;
    // 1. timesteps, as set_timesteps spaces them (linspace unrounded)
    let timesteps = vpTimesteps(parsed, n, (spacing, T, count, offset) =>
      spacing === 'linspace' ? linspaceTimesteps(T, count) : spacedTimesteps(spacing, T, count, offset),
    );
    if (useKarrasSigmas && trainSchedule.numTrainTimesteps < 2) {
      throw new SchedulerConfigError('useKarrasSigmas', 'useKarrasSigmas needs trainSchedule.numTrainTimesteps >= 2');
    }

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

    const maxSigma = Math.max(...sigmas);
    super({
      config: parsed,
      predictionType: parsed.predictionType,
      // fractional for linspace spacing and Karras sigmas
      timesteps,
      // x_i = x0 + sigma_i eps
      levels: sigmas.map((sigma) => ({ alpha: 1, sigma })),
      initNoiseSigma: timestepSpacing === 'leading' ? Math.sqrt(maxSigma * maxSigma + 1) : maxSigma,
      // diffusers' scale_model_input
      modelInputScales: sigmas.slice(0, n).map((s) => 1 / Math.sqrt(s * s + 1)),
    });
    this.sigmas = Object.freeze(sigmas);
  }

  /**
   * 2. ODE derivative `d = (x - x0Hat) / sigma_i = epsHat`;
   * 3. `x_{i+1} = x_i + (sigma_{i+1} - sigma_i) d`.
   */
  protected applyStep(i: number, sample: Float32Array, _x0Hat: Float32Array, epsHat: Float32Array, dst: Float32Array): void {
    const dt = this.sigmas[i + 1]! - this.sigmas[i]!;
    for (let k = 0; k < dst.length; k++) dst[k] = sample[k]! + dt * epsHat[k]!;
  }
}
