/**
 * DDIM (Song et al., "Denoising Diffusion Implicit Models", arXiv:2010.02502)
 * with diffusers' `DDIMScheduler` semantics, split into the deterministic
 * step and the noise coefficient of {@link Scheduler}.
 *
 * All coefficients are computed once per step in float64 at construction and
 * applied to Float32Array samples.
 *
 * Previous timestep. diffusers steps from `t` to `t - T // n` for every
 * spacing. For leading and trailing spacing we do the same. For linspace we
 * step to the next timestep in the list instead: diffusers' rule there lands
 * x_{i+1} on a noise level (e.g. 999 -> 899 for n = 10) other than the one the
 * model is told at step i+1 (888), so sample and conditioning disagree. This
 * is a deliberate deviation; with linspace our trajectory differs from
 * diffusers' (with leading/trailing it matches).
 */
import { alphasCumprod } from '../../common/noise-schedule.ts';
import { parseDdimConfig, type DdimConfig, type DdimConfigInput } from './ddim-config.ts';
import { SchedulerConfigError } from './errors.ts';
import { VpScheduler, vpTimesteps, type VpStepCoefficients } from './scheduler-step.ts';

/**
 * Per-step DDIM quantities, all float64: `alphaProdTPrev` is
 * final_alpha_cumprod past the end, `variance` the eta-free
 * `(1-abar_prev)/(1-abar_t) * (1 - abar_t/abar_prev)`, `stdDevT = eta sqrt(variance)`,
 * `x0Coeff = sqrt(abar_prev)`.
 */
export interface DdimStepCoefficients extends VpStepCoefficients {
  /** sqrt(1 - abar_prev - sigma_t^2), multiplies epsHat ("direction pointing to x_t"). */
  readonly epsCoeff: number;
}

/** DDIM scheduler configured for a number of inference steps. */
export class DdimScheduler extends VpScheduler<DdimConfig, DdimStepCoefficients> {
  readonly kind = 'ddim';

  /**
   * @param config any subset of {@link DdimConfig}; missing fields take
   *   {@link DEFAULT_DDIM_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, 1..numTrainTimesteps.
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: DdimConfigInput | Readonly<DdimConfig>, numInferenceSteps: number) {
    const parsed = parseDdimConfig(config);
    const { trainSchedule, timestepSpacing, stepsOffset, eta, setAlphaToOne } = parsed;
    const n = numInferenceSteps;
    const timesteps = vpTimesteps(parsed, n);

    const abar = alphasCumprod(trainSchedule);
    // diffusers' final_alpha_cumprod: where the last step lands.
    const finalAlphaCumprod = setAlphaToOne ? 1 : abar[0]!;
    const ratio = Math.floor(trainSchedule.numTrainTimesteps / n);
    const steps: DdimStepCoefficients[] = [];
    for (let i = 0; i < n; i++) {
      const t = timesteps[i]!;
      // 1. previous timestep (see the file comment for linspace)
      const prevTimestep = timestepSpacing === 'linspace' ? (i + 1 < n ? timesteps[i + 1]! : -1) : t - ratio;
      // 2. alphas, betas
      const alphaProdT = abar[t]!;
      const alphaProdTPrev = prevTimestep >= 0 ? abar[prevTimestep]! : finalAlphaCumprod;
      const betaProdT = 1 - alphaProdT;
      const betaProdTPrev = 1 - alphaProdTPrev;
      // 5. variance sigma_t(eta), formula (16)
      const variance = (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev);
      const stdDevT = eta * Math.sqrt(variance);
      // 6. "direction pointing to x_t" coefficient, formula (12)
      let direction = 1 - alphaProdTPrev - stdDevT * stdDevT;
      if (direction < 0) {
        // Exactly 0 in exact arithmetic for eta = 1 at abar_prev = 1; anything beyond rounding is eta too large.
        if (direction < -1e-12) {
          throw new SchedulerConfigError(
            'eta',
            `eta ${eta} is too large: 1 - alphaProdTPrev - sigma_t^2 = ${direction} < 0 at step ${i} (timestep ${t})`,
          );
        }
        direction = 0;
      }
      steps.push(
        {
          timestep: t,
          prevTimestep,
          alphaProdT,
          alphaProdTPrev,
          variance,
          stdDevT,
          x0Coeff: Math.sqrt(alphaProdTPrev),
          epsCoeff: Math.sqrt(direction),
        },
      );
    }
    super(parsed, steps);
  }

  /** 7. `x_prev = sqrt(abar_prev) x0Hat + sqrt(1 - abar_prev - sigma_t^2) epsHat`. */
  protected applyStep(i: number, _sample: Float32Array, x0Hat: Float32Array, epsHat: Float32Array, dst: Float32Array): void {
    const { x0Coeff, epsCoeff } = this.steps[i]!;
    for (let k = 0; k < dst.length; k++) dst[k] = x0Coeff * x0Hat[k]! + epsCoeff * epsHat[k]!;
  }
}
