/**
 * DDIM scheduler config: defaults, validation and the compiled readonly form.
 *
 * Validation is hand-written rather than a zod schema so each message names
 * the field and the value received (`eta must be >= 0, got -0.5`), which is
 * what a user editing a job spec needs; the shape is small and flat.
 */
import { DEFAULT_TRAIN_SCHEDULE, type TrainSchedule } from '../../common/noise-schedule.ts';
import {
  checkConfigObject,
  parseBoolean,
  parseClipSample,
  parseStepsOffset,
  parseTimestepSpacing,
  parseTrainSchedule,
  parseVpPredictionType,
  show,
  type VpPredictionType,
} from './config-fields.ts';
import { SchedulerConfigError } from './errors.ts';
import type { TimestepSpacing } from './timestep-spacing.ts';

/** Prediction types DDIM accepts (VP parameterisations only). */
export type { VpPredictionType } from './config-fields.ts';

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

/**
 * Merges `input` over {@link DEFAULT_DDIM_CONFIG}, validates it and returns a
 * frozen copy. Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseDdimConfig(input: unknown = {}): Readonly<DdimConfig> {
  checkConfigObject('DDIM', input, KEYS);
  const merged = { ...DEFAULT_DDIM_CONFIG, ...input } as Record<string, unknown>;
  const trainSchedule = parseTrainSchedule(merged['trainSchedule']);

  const eta = merged['eta'];
  if (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0) {
    throw new SchedulerConfigError('eta', `eta must be a finite number >= 0, got ${show(eta)}`);
  }
  const timestepSpacing = parseTimestepSpacing(merged['timestepSpacing']);
  const stepsOffset = parseStepsOffset(merged['stepsOffset']);
  const setAlphaToOne = parseBoolean('setAlphaToOne', merged['setAlphaToOne']);
  const predictionType = parseVpPredictionType('DDIM', merged['predictionType']);
  const clipSample = parseClipSample(merged['clipSample']);

  const config: DdimConfig = { trainSchedule, eta, timestepSpacing, stepsOffset, setAlphaToOne, predictionType };
  if (clipSample === false) config.clipSample = false;
  return Object.freeze(config);
}
