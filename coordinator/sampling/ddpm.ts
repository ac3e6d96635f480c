/**
 * DDPM ancestral sampling (Ho et al., "Denoising Diffusion Probabilistic
 * Models", arXiv:2006.11239) with diffusers' `DDPMScheduler` semantics,
 * split into the deterministic posterior mean and the noise coefficient of
 * {@link Scheduler}.
 *
 * Previous timestep. diffusers (since v0.31, PR #9384) steps from
 * `timesteps[i]` to `timesteps[i + 1]`, and past the last one to `-1`
 * (`alpha_prod_t_prev = 1`), for every spacing. For leading spacing this is
 * `t - T // n`; for trailing and linspace it is not (trailing, 13 steps:
 * 999 -> 922, where `t - T // n` gives 923). Older diffusers and public
 * parallel-DDPM code use `t - T // n` everywhere and so land x_{i+1} on a
 * noise level other than the one the model is told at step i+1. Both of our
 * engines call the one {@link DdpmScheduler.stepDeterministic}, so they agree
 * by construction.
 *
 * All coefficients are float64, computed once at construction, applied to
 * Float32Array samples.
 */
import { alphasCumprod } from '../../common/noise-schedule.ts';
import { parseDdpmConfig, type DdpmConfig, type DdpmConfigInput } from './ddpm-config.ts';
import { VpScheduler, vpTimesteps, type VpStepCoefficients } from './scheduler-step.ts';

/** diffusers clamps the variance to this before use (`torch.clamp(variance, min=1e-20)`). */
export const DDPM_MIN_VARIANCE = 1e-20;

/**
 * Per-step DDPM quantities, all float64: `prevTimestep` is the next listed
 * timestep, or -1 after the last step (abar = 1); `variance` is diffusers'
 * `_get_variance(t)`, `max(beta~_t, 1e-20)` for fixed_small and `beta_t` for
 * fixed_large; `stdDevT = sqrt(variance)` when t > 0, else 0 (diffusers'
 * `if t > 0`); `x0Coeff = sqrt(abar_prev) beta_t / (1 - abar_t)`
 * (pred_original_sample_coeff).
 */
export interface DdpmStepCoefficients extends VpStepCoefficients {
  /** beta_t = 1 - abar_t / abar_prev (diffusers' current_beta_t). */
  readonly currentBetaT: number;
  /** current_sample_coeff = sqrt(alpha_t) (1 - abar_prev) / (1 - abar_t), multiplies x_t. */
  readonly sampleCoeff: number;
}

/** DDPM scheduler configured for a number of inference steps. */
export class DdpmScheduler extends VpScheduler<DdpmConfig, DdpmStepCoefficients> {
  readonly kind = 'ddpm';

  /**
   * @param config any subset of {@link DdpmConfig}; missing fields take
   *   {@link DEFAULT_DDPM_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, 1..numTrainTimesteps.
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: DdpmConfigInput | Readonly<DdpmConfig>, numInferenceSteps: number) {
    const parsed = parseDdpmConfig(config);
    const { trainSchedule, timestepSpacing, stepsOffset, varianceType } = parsed;
    const n = numInferenceSteps;
    const timesteps = vpTimesteps(parsed, n);

    const abar = alphasCumprod(trainSchedule);
    const steps: DdpmStepCoefficients[] = [];
    for (let i = 0; i < n; i++) {
      const t = timesteps[i]!;
      // previous_timestep(): the next listed timestep, -1 after the last
      const prevTimestep = i + 1 < n ? timesteps[i + 1]! : -1;
      // 1. compute alphas, betas
      const alphaProdT = abar[t]!;
      const alphaProdTPrev = prevTimestep >= 0 ? abar[prevTimestep]! : 1;
      const betaProdT = 1 - alphaProdT;
      const betaProdTPrev = 1 - alphaProdTPrev;
      const currentAlphaT = alphaProdT / alphaProdTPrev;
      const currentBetaT = 1 - currentAlphaT;
      // 4. coefficients of x0 and x_t in the posterior mean, formula (7)
      const x0Coeff = (Math.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
      const sampleCoeff = (Math.sqrt(currentAlphaT) * betaProdTPrev) / betaProdT;
      // 6. variance, formula (6)-(7): beta~_t (clamped as diffusers does) or beta_t
      const variance =
        varianceType === 'fixed_small'
          ? Math.max((betaProdTPrev / betaProdT) * currentBetaT, DDPM_MIN_VARIANCE)
          : currentBetaT;
      steps.push(
        {
          timestep: t,
          prevTimestep,
          alphaProdT,
          alphaProdTPrev,
          currentBetaT,
          variance,
          stdDevT: t > 0 ? Math.sqrt(variance) : 0,
          x0Coeff,
          sampleCoeff,
        },
      );
    }
    super(parsed, steps);
  }

  /**
   * 5. The posterior mean `mu~_t = x0Coeff x0Hat + sampleCoeff x_t`
   * (diffusers' `pred_prev_sample`). `epsHat` is not used: DDPM's formula (7)
   * is written in x0 and x_t.
   */
  protected applyStep(i: number, sample: Float32Array, x0Hat: Float32Array, _epsHat: Float32Array, dst: Float32Array): void {
    const { x0Coeff, sampleCoeff } = this.steps[i]!;
    for (let k = 0; k < dst.length; k++) dst[k] = x0Coeff * x0Hat[k]! + sampleCoeff * sample[k]!;
  }
}
