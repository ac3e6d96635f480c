/**
 * What the four schedulers (DDIM, DDPM, Euler, flow Euler) share: each
 * computes its per-step quantities once at construction (timesteps, noise
 * levels, noise coefficients, model input scales) and differs only in the
 * elementwise formula of its deterministic step. {@link TabulatedScheduler}
 * holds those tables, answers the {@link Scheduler} accessors from them with
 * the index checks, and runs a full diffusers-style `step()` through the one
 * model-output conversion ({@link modelOutputToX0Eps}), so a scheduler's
 * `step()` is exactly what the engines compute through the composite denoiser.
 */
import { uninitializedFloat32Array } from '../../common/float-buffers.ts';
import type { TrainSchedule } from '../../common/noise-schedule.ts';
import { SchedulerConfigError } from './errors.ts';
import { modelOutputToX0Eps } from './model-output.ts';
import { vpNoiseLevel, type NoiseLevel, type PredictionType } from './prediction.ts';
import { addScaledNoise, checkStepIndex, type Scheduler } from './scheduler.ts';
import { spacedTimesteps, type TimestepSpacing } from './timestep-spacing.ts';

/** The per-step tables of a configured scheduler (float64). */
export interface SchedulerTables<C extends object> {
  readonly config: Readonly<C>;
  readonly predictionType: PredictionType;
  /** Model timesteps of steps 0..n-1. */
  readonly timesteps: readonly number[];
  /** Noise levels of x_0..x_n (n + 1 entries, the last where the last step lands). */
  readonly levels: readonly NoiseLevel[];
  readonly initNoiseSigma: number;
  /** c_0..c_{n-1}; absent means a deterministic sampler (all 0). */
  readonly noiseCoefficients?: readonly number[];
  /** Model input scales of steps 0..n-1; absent means 1 (VP and flow samples go in as they are). */
  readonly modelInputScales?: readonly number[];
}

/** One full step from a raw model output, as diffusers' `step()` returns it. */
export interface SchedulerStepResult {
  prevSample: Float32Array;
  predOriginalSample: Float32Array;
}

/** A {@link Scheduler} answered from tables computed once; subclasses supply the step formula. */
export abstract class TabulatedScheduler<C extends object> implements Scheduler<C> {
  abstract readonly kind: string;
  readonly config: Readonly<C>;
  readonly predictionType: PredictionType;
  readonly timesteps: readonly number[];
  readonly numSteps: number;
  readonly initNoiseSigma: number;
  private readonly levels: readonly NoiseLevel[];
  private readonly noiseCoefficients: readonly number[] | undefined;
  private readonly modelInputScales: readonly number[] | undefined;

  protected constructor(tables: SchedulerTables<C>) {
    const n = tables.timesteps.length;
    if (tables.levels.length !== n + 1) throw new RangeError(`${n} steps need ${n + 1} noise levels, got ${tables.levels.length}`);
    this.config = tables.config;
    this.predictionType = tables.predictionType;
    this.timesteps = Object.freeze([...tables.timesteps]);
    this.numSteps = n;
    this.initNoiseSigma = tables.initNoiseSigma;
    this.levels = Object.freeze(tables.levels.map((l) => Object.freeze({ alpha: l.alpha, sigma: l.sigma })));
    this.noiseCoefficients = tables.noiseCoefficients && Object.freeze([...tables.noiseCoefficients]);
    this.modelInputScales = tables.modelInputScales && Object.freeze([...tables.modelInputScales]);
  }

  /** `x_i = alpha x0 + sigma eps` at step `i`; `i = numSteps` is where the last step lands. */
  noiseLevel(i: number): NoiseLevel {
    checkStepIndex(i, this.numSteps + 1);
    return this.levels[i]!;
  }

  /** Factor applied to `x_i` before it goes into the model (diffusers' `scale_model_input`). */
  modelInputScale(i: number): number {
    checkStepIndex(i, this.numSteps);
    return this.modelInputScales?.[i] ?? 1;
  }

  /** Coefficient of step `i`'s fresh noise; 0 for deterministic steps. */
  noiseCoefficient(i: number): number {
    checkStepIndex(i, this.numSteps);
    return this.noiseCoefficients?.[i] ?? 0;
  }

  /**
   * Deterministic part of step `i`, written into `out` when given (any of the
   * inputs may be `out`: the formulas are elementwise).
   */
  stepDeterministic(i: number, sample: Float32Array, x0Hat: Float32Array, epsHat: Float32Array, out?: Float32Array): Float32Array {
    checkStepIndex(i, this.numSteps);
    const n = sample.length;
    if (x0Hat.length !== n || epsHat.length !== n) {
      throw new RangeError(`step ${i}: x0Hat (${x0Hat.length}) and epsHat (${epsHat.length}) must match sample (${n})`);
    }
    // Not zero-filled first: every applyStep writes each element of it.
    const dst = out ?? uninitializedFloat32Array(n);
    if (dst.length !== n) throw new RangeError(`step ${i}: out has ${dst.length} elements, sample has ${n}`);
    this.applyStep(i, sample, x0Hat, epsHat, dst);
    return dst;
  }

  /**
   * One full diffusers-style step from a raw model output: convert it to
   * (x0Hat, epsHat), take the deterministic step, then add `c_i z_i` when
   * the step is stochastic (`noise` is then required).
   */
  step(i: number, sample: Float32Array, modelOutput: Float32Array, noise?: Float32Array): SchedulerStepResult {
    const { x0, eps } = modelOutputToX0Eps(this, i, sample, modelOutput);
    const prevSample = this.stepDeterministic(i, sample, x0, eps);
    const c = this.noiseCoefficient(i);
    if (c !== 0) {
      if (noise === undefined) throw new RangeError(`step ${i} is stochastic (noise coefficient ${c}); pass its noise`);
      addScaledNoise(prevSample, c, noise);
    }
    return { prevSample, predOriginalSample: x0 };
  }

  /** Writes the deterministic step `i` into `dst` (lengths already checked). */
  protected abstract applyStep(i: number, sample: Float32Array, x0Hat: Float32Array, epsHat: Float32Array, dst: Float32Array): void;
}

/** The per-step quantities every VP scheduler (DDIM, DDPM) tabulates (paper / diffusers names), float64. */
export interface VpStepCoefficients {
  /** Model timestep t of the step's input. */
  readonly timestep: number;
  /** Timestep the step lands on; negative means "past the end" (the scheduler's final abar). */
  readonly prevTimestep: number;
  /** abar_t */
  readonly alphaProdT: number;
  /** abar_{t_prev}, or the scheduler's final abar when prevTimestep < 0. */
  readonly alphaProdTPrev: number;
  /** The DDPM posterior variance between the two levels (see each scheduler). */
  readonly variance: number;
  /** The noise coefficient c_i. */
  readonly stdDevT: number;
  /** Multiplies x0Hat in the deterministic step. */
  readonly x0Coeff: number;
}

/**
 * A VP scheduler: levels `{ sqrt(abar), sqrt(1 - abar) }` at each step's
 * timestep and where the last step lands, initial noise scale 1, per-step
 * coefficients `S` kept for its step formula and for inspection.
 */
export abstract class VpScheduler<C extends { predictionType: PredictionType }, S extends VpStepCoefficients> extends TabulatedScheduler<C> {
  protected readonly steps: readonly S[];

  protected constructor(config: Readonly<C>, steps: readonly S[]) {
    super({
      config,
      predictionType: config.predictionType,
      timesteps: steps.map((s) => s.timestep),
      levels: [...steps.map((s) => vpNoiseLevel(s.alphaProdT)), vpNoiseLevel(steps[steps.length - 1]!.alphaProdTPrev)],
      initNoiseSigma: 1,
      noiseCoefficients: steps.map((s) => s.stdDevT),
    });
    this.steps = Object.freeze(steps.map((s) => Object.freeze(s)));
  }

  /** The float64 coefficients of step `i` (for tests, logging and Picard error scales). */
  stepCoefficients(i: number): S {
    checkStepIndex(i, this.numSteps);
    return this.steps[i]!;
  }
}

/**
 * The timesteps of a VP scheduler over `n` steps: checks `n` against the
 * training schedule, spaces the timesteps (`space`, {@link spacedTimesteps}
 * unless the scheduler spaces some spacing its own way) and checks the first.
 */
export function vpTimesteps(
  config: { readonly trainSchedule: TrainSchedule; readonly timestepSpacing: TimestepSpacing; readonly stepsOffset: number },
  n: number,
  space: typeof spacedTimesteps = spacedTimesteps,
): number[] {
  const T = config.trainSchedule.numTrainTimesteps;
  checkNumInferenceSteps(n, T);
  const timesteps = space(config.timestepSpacing, T, n, config.stepsOffset);
  checkFirstTimestep(timesteps[0]!, T, config.stepsOffset);
  return timesteps;
}

/**
 * Checks the number of inference steps: an integer >= 1, and at most
 * `maxSteps` (the number of training timesteps) when given.
 */
export function checkNumInferenceSteps(n: number, maxSteps?: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new SchedulerConfigError('numInferenceSteps', `numInferenceSteps must be an integer >= 1, got ${n}`);
  }
  if (maxSteps !== undefined && n > maxSteps) {
    throw new SchedulerConfigError(
      'numInferenceSteps',
      `numInferenceSteps (${n}) cannot exceed trainSchedule.numTrainTimesteps (${maxSteps})`,
    );
  }
}

/**
 * Checks that the first (largest) spaced timestep is a training timestep:
 * leading spacing plus `stepsOffset` can push it to `T` (e.g. 1000 steps of
 * a 1000-step schedule with offset 1), where diffusers indexes past
 * `alphas_cumprod`.
 */
function checkFirstTimestep(first: number, numTrainTimesteps: number, stepsOffset: number): void {
  if (first > numTrainTimesteps - 1) {
    throw new SchedulerConfigError(
      'stepsOffset',
      `stepsOffset ${stepsOffset} pushes the first timestep to ${first}, past the last training timestep ${numTrainTimesteps - 1}`,
    );
  }
}
