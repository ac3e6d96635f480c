/**
 * DDIM scheduler config: defaults, validation and the compiled readonly form.
 *
 * Validation is hand-written rather than a zod schema so each message names
 * the field and the value received (`eta must be >= 0, got -0.5`), which is
 * what a user editing a job spec needs; the shape is small and flat.
 */
import { DEFAULT_TRAIN_SCHEDULE, type BetaSchedule, type TrainSchedule } from '../../common/noise-schedule.ts';
import { SchedulerConfigError } from './errors.ts';
import type { PredictionType } from './prediction.ts';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from './timestep-spacing.ts';

/** Prediction types DDIM accepts (VP parameterisations only). */
export type VpPredictionType = Exclude<PredictionType, 'flow'>;

/** Serialisable DDIM config (diffusers' `DDIMScheduler` config, camelCased). */
export interface DdimConfig {
  /** Training noise schedule the model was trained with. */
  trainSchedule: TrainSchedule;
  /** Stochasticity: 0 = deterministic DDIM, 1 = DDPM-like ancestral noise. */
  eta: number;
  timestepSpacing: TimestepSpacing;
  /** Added to leading-spaced timesteps (Stable Diffusion uses 1). */
  stepsOffset: number;
  /** Last step lands on abar = 1 (true) or on abar_0 (false), diffusers' `final_alpha_cumprod`. */
  setAlphaToOne: boolean;
  predictionType: VpPredictionType;
  /** x0 clipping is not supported; the field exists so diffusers configs map one to one. */
  clipSample?: false;
}

/** Input accepted by {@link parseDdimConfig}: any subset of the fields. */
export type DdimConfigInput = Partial<DdimConfig>;

/**
 * Defaults: Stable Diffusion's `scheduler_config.json` (scaled_linear
 * 0.00085..0.012, leading spacing, steps_offset 1, set_alpha_to_one false),
 * deterministic (eta 0), epsilon prediction.
 */
export const DEFAULT_DDIM_CONFIG: Readonly<DdimConfig> = Object.freeze({
  trainSchedule: Object.freeze({ ...DEFAULT_TRAIN_SCHEDULE }),
  eta: 0,
  timestepSpacing: 'leading',
  stepsOffset: 1,
  setAlphaToOne: false,
  predictionType: 'epsilon',
});

const KEYS: readonly string[] = [
  'trainSchedule',
  'eta',
  'timestepSpacing',
  'stepsOffset',
  'setAlphaToOne',
  'predictionType',
  'clipSample',
];
const TRAIN_KEYS: readonly string[] = ['numTrainTimesteps', 'betaSchedule', 'betaStart', 'betaEnd'];
const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
const VP_PREDICTION_TYPES: readonly VpPredictionType[] = ['epsilon', 'sample', 'v_prediction'];

/**
 * Merges `input` over {@link DEFAULT_DDIM_CONFIG}, validates it and returns a
 * frozen copy. Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseDdimConfig(input: unknown = {}): Readonly<DdimConfig> {
  if (!isRecord(input)) throw new SchedulerConfigError('config', `DDIM config must be an object, got ${show(input)}`);
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) throw new SchedulerConfigError(key, `unknown DDIM config field '${key}'`);
  }
  const merged = { ...DEFAULT_DDIM_CONFIG, ...input } as Record<string, unknown>;
  const trainSchedule = parseTrainSchedule(merged['trainSchedule']);

  const eta = merged['eta'];
  if (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0) {
    throw new SchedulerConfigError('eta', `eta must be a finite number >= 0, got ${show(eta)}`);
  }
  const spacing = merged['timestepSpacing'];
  if (!TIMESTEP_SPACINGS.includes(spacing as TimestepSpacing)) {
    throw new SchedulerConfigError(
      'timestepSpacing',
      `timestepSpacing must be one of ${TIMESTEP_SPACINGS.join(', ')}, got ${show(spacing)}`,
    );
  }
  const stepsOffset = merged['stepsOffset'];
  if (!Number.isInteger(stepsOffset) || (stepsOffset as number) < 0) {
    throw new SchedulerConfigError('stepsOffset', `stepsOffset must be an integer >= 0, got ${show(stepsOffset)}`);
  }
  const setAlphaToOne = merged['setAlphaToOne'];
  if (typeof setAlphaToOne !== 'boolean') {
    throw new SchedulerConfigError('setAlphaToOne', `setAlphaToOne must be a boolean, got ${show(setAlphaToOne)}`);
  }
  const predictionType = merged['predictionType'];
  if (predictionType === 'flow') {
    throw new SchedulerConfigError(
      'predictionType',
      "predictionType 'flow' is a rectified-flow parameterisation; DDIM is a VP scheduler (use epsilon, sample or v_prediction)",
    );
  }
  if (!VP_PREDICTION_TYPES.includes(predictionType as VpPredictionType)) {
    throw new SchedulerConfigError(
      'predictionType',
      `predictionType must be one of ${VP_PREDICTION_TYPES.join(', ')}, got ${show(predictionType)}`,
    );
  }
  const clipSample = merged['clipSample'];
  if (clipSample !== undefined && clipSample !== false) {
    throw new SchedulerConfigError('clipSample', `clipSample is not supported; omit it or set false, got ${show(clipSample)}`);
  }

  const config: DdimConfig = {
    trainSchedule,
    eta,
    timestepSpacing: spacing as TimestepSpacing,
    stepsOffset: stepsOffset as number,
    setAlphaToOne,
    predictionType: predictionType as VpPredictionType,
  };
  if (clipSample === false) config.clipSample = false;
  return Object.freeze(config);
}

function parseTrainSchedule(value: unknown): Readonly<TrainSchedule> {
  if (!isRecord(value)) {
    throw new SchedulerConfigError('trainSchedule', `trainSchedule must be an object, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!TRAIN_KEYS.includes(key)) {
      throw new SchedulerConfigError(`trainSchedule.${key}`, `unknown trainSchedule field '${key}'`);
    }
  }
  const n = value['numTrainTimesteps'];
  if (!Number.isInteger(n) || (n as number) < 1) {
    throw new SchedulerConfigError(
      'trainSchedule.numTrainTimesteps',
      `trainSchedule.numTrainTimesteps must be an integer >= 1, got ${show(n)}`,
    );
  }
  const schedule = value['betaSchedule'];
  if (!BETA_SCHEDULES.includes(schedule as BetaSchedule)) {
    throw new SchedulerConfigError(
      'trainSchedule.betaSchedule',
      `trainSchedule.betaSchedule must be one of ${BETA_SCHEDULES.join(', ')}, got ${show(schedule)}`,
    );
  }
  for (const key of ['betaStart', 'betaEnd'] as const) {
    const b = value[key];
    if (typeof b !== 'number' || !(b > 0 && b < 1)) {
      throw new SchedulerConfigError(`trainSchedule.${key}`, `trainSchedule.${key} must be in (0, 1), got ${show(b)}`);
    }
  }
  return Object.freeze({
    numTrainTimesteps: n as number,
    betaSchedule: schedule as BetaSchedule,
    betaStart: value['betaStart'] as number,
    betaEnd: value['betaEnd'] as number,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}
