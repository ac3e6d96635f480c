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
import { toX0Eps, vpNoiseLevel, type NoiseLevel, type PredictionType } from './prediction.ts';
import { addScaledNoise, checkStepIndex, type Scheduler, stepOutput } from './scheduler.ts';
import { spacedTimesteps } from './timestep-spacing.ts';

/** Per-step DDIM quantities (paper / diffusers names), all float64. */
export interface DdimStepCoefficients {
  /** Model timestep t of the step's input. */
  readonly timestep: number;
  /** Timestep the step lands on; negative means "past the end" (final_alpha_cumprod). */
  readonly prevTimestep: number;
  /** abar_t */
  readonly alphaProdT: number;
  /** abar_{t_prev}, or final_alpha_cumprod when prevTimestep < 0 */
  readonly alphaProdTPrev: number;
  /** DDPM posterior variance `(1-abar_prev)/(1-abar_t) * (1 - abar_t/abar_prev)` (eta-free). */
  readonly variance: number;
  /** sigma_t = eta * sqrt(variance), the noise coefficient c_i. */
  readonly stdDevT: number;
  /** sqrt(abar_prev), multiplies x0Hat. */
  readonly x0Coeff: number;
  /** sqrt(1 - abar_prev - sigma_t^2), multiplies epsHat ("direction pointing to x_t"). */
  readonly epsCoeff: number;
}

/** DDIM scheduler configured for a number of inference steps. */
export class DdimScheduler implements Scheduler<DdimConfig> {
  readonly kind = 'ddim';
  readonly config: Readonly<DdimConfig>;
  readonly predictionType: PredictionType;
  readonly timesteps: readonly number[];
  readonly numSteps: number;
  readonly initNoiseSigma = 1;
  private readonly steps: readonly DdimStepCoefficients[];
  private readonly levels: readonly NoiseLevel[];

  /**
   * @param config any subset of {@link DdimConfig}; missing fields take
   *   {@link DEFAULT_DDIM_CONFIG}'s values.
   * @param numInferenceSteps number of sampling steps, 1..numTrainTimesteps.
   * @throws SchedulerConfigError on a bad field or step count.
   */
  constructor(config: DdimConfigInput | Readonly<DdimConfig>, numInferenceSteps: number) {
    this.config = parseDdimConfig(config);
    const { trainSchedule, timestepSpacing, stepsOffset, eta, setAlphaToOne } = this.config;
    const T = trainSchedule.numTrainTimesteps;
    const n = numInferenceSteps;
    if (!Number.isInteger(n) || n < 1) {
      throw new SchedulerConfigError('numInferenceSteps', `numInferenceSteps must be an integer >= 1, got ${n}`);
    }
    if (n > T) {
      throw new SchedulerConfigError(
        'numInferenceSteps',
        `numInferenceSteps (${n}) cannot exceed trainSchedule.numTrainTimesteps (${T})`,
      );
    }
    const timesteps = spacedTimesteps(timestepSpacing, T, n, stepsOffset);
    const first = timesteps[0]!;
    if (first > T - 1) {
      throw new SchedulerConfigError(
        'stepsOffset',
        `stepsOffset ${stepsOffset} pushes the first timestep to ${first}, past the last training timestep ${T - 1}`,
      );
    }
    this.timesteps = Object.freeze(timesteps);
    this.numSteps = n;
    this.predictionType = this.config.predictionType;

    const abar = alphasCumprod(trainSchedule);
    // diffusers' final_alpha_cumprod: where the last step lands.
    const finalAlphaCumprod = setAlphaToOne ? 1 : abar[0]!;
    const ratio = Math.floor(T / n);
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
        Object.freeze({
          timestep: t,
          prevTimestep,
          alphaProdT,
          alphaProdTPrev,
          variance,
          stdDevT,
          x0Coeff: Math.sqrt(alphaProdTPrev),
          epsCoeff: Math.sqrt(direction),
        }),
      );
    }
    this.steps = Object.freeze(steps);
    this.levels = Object.freeze([...steps.map((s) => Object.freeze(vpNoiseLevel(s.alphaProdT))), Object.freeze(vpNoiseLevel(steps[n - 1]!.alphaProdTPrev))]);
  }

  /** The float64 coefficients of step `i` (for tests, logging and Picard error scales). */
  stepCoefficients(i: number): DdimStepCoefficients {
    checkStepIndex(i, this.numSteps);
    return this.steps[i]!;
  }

  /**
   * `{ alpha: sqrt(abar_t), sigma: sqrt(1 - abar_t) }` at step `i`'s timestep;
   * at `i = numSteps`, the level the last step lands on (final_alpha_cumprod).
   */
  noiseLevel(i: number): NoiseLevel {
    checkStepIndex(i, this.numSteps + 1);
    return this.levels[i]!;
  }

  /** VP samples go into the model as they are. */
  modelInputScale(i: number): number {
    checkStepIndex(i, this.numSteps);
    return 1;
  }

  /** sigma_t = eta * sqrt(variance); 0 when eta = 0. */
  noiseCoefficient(i: number): number {
    checkStepIndex(i, this.numSteps);
    return this.steps[i]!.stdDevT;
  }

  /**
   * 7. `x_prev = sqrt(abar_prev) x0Hat + sqrt(1 - abar_prev - sigma_t^2) epsHat`.
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
    const { x0Coeff, epsCoeff } = this.steps[i]!;
    for (let k = 0; k < n; k++) dst[k] = x0Coeff * x0Hat[k]! + epsCoeff * epsHat[k]!;
    return dst;
  }

  /**
   * One full diffusers-style step from a raw model output: 3. convert to
   * (x0Hat, epsHat), 6-7. deterministic step, then `+ sigma_t z` when
   * sigma_t > 0 (`noise` is then required).
   */
  step(
    i: number,
    sample: Float32Array,
    modelOutput: Float32Array,
    noise?: Float32Array,
  ): { prevSample: Float32Array; predOriginalSample: Float32Array } {
    const { x0, eps } = toX0Eps(this.predictionType, modelOutput, sample, this.noiseLevel(i));
    const prevSample = this.stepDeterministic(i, sample, x0, eps);
    const c = this.noiseCoefficient(i);
    if (c !== 0) {
      if (noise === undefined) throw new RangeError(`step ${i} is stochastic (sigma_t = ${c}); pass its noise`);
      addScaledNoise(prevSample, c, noise);
    }
    return { prevSample, predOriginalSample: x0 };
  }
}
