/**
 * DDPM scheduler config: defaults, validation and the compiled readonly form
 * (diffusers' `DDPMScheduler` config, camelCased, restricted to what the
 * cluster supports).
 */
import { DEFAULT_TRAIN_SCHEDULE, type TrainSchedule } from '../../common/noise-schedule.ts';
import {
  checkConfigObject,
  parseChoice,
  parseClipSample,
  parseStepsOffset,
  parseTimestepSpacing,
  parseTrainSchedule,
  parseVpPredictionType,
  type VpPredictionType,
} from './config-fields.ts';
import type { TimestepSpacing } from './timestep-spacing.ts';

/**
 * Variance of the ancestral noise (diffusers' `variance_type`):
 * - `fixed_small`: the posterior variance `beta~_t = (1 - abar_prev)/(1 - abar_t) beta_t`;
 * - `fixed_large`: `beta_t` itself.
 * Learned variances need a model that outputs them and are not supported.
 */
export type DdpmVarianceType = 'fixed_small' | 'fixed_large';

/** All supported variance types. */
export const DDPM_VARIANCE_TYPES: readonly DdpmVarianceType[] = ['fixed_small', 'fixed_large'];

/** Serialisable DDPM config. */
export interface DdpmConfig {
  /** Training noise schedule the model was trained with. */
  trainSchedule: TrainSchedule;
  timestepSpacing: TimestepSpacing;
  /** Added to leading-spaced timesteps (Stable Diffusion uses 1). */
  stepsOffset: number;
  varianceType: DdpmVarianceType;
  predictionType: VpPredictionType;
  /** x0 clipping is not supported; the field exists so diffusers configs map one to one. */
  clipSample?: false;
}

/** Input accepted by {@link parseDdpmConfig}: any subset of the fields. */
export type DdpmConfigInput = Partial<DdpmConfig>;

/**
 * Defaults: Stable Diffusion's `scheduler_config.json` schedule and spacing
 * (scaled_linear 0.00085..0.012, leading, steps_offset 1), as for DDIM, with
 * diffusers' `fixed_small` variance and epsilon prediction. (diffusers'
 * class defaults differ: linear 1e-4..0.02, steps_offset 0, clip_sample true.)
 */
export const DEFAULT_DDPM_CONFIG: Readonly<DdpmConfig> = Object.freeze({
  trainSchedule: Object.freeze({ ...DEFAULT_TRAIN_SCHEDULE }),
  timestepSpacing: 'leading',
  stepsOffset: 1,
  varianceType: 'fixed_small',
  predictionType: 'epsilon',
});

const KEYS: readonly string[] = [
  'trainSchedule',
  'timestepSpacing',
  'stepsOffset',
  'varianceType',
  'predictionType',
  'clipSample',
];

/**
 * Merges `input` over {@link DEFAULT_DDPM_CONFIG}, validates it and returns a
 * frozen copy. Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseDdpmConfig(input: unknown = {}): Readonly<DdpmConfig> {
  checkConfigObject('DDPM', input, KEYS);
  const merged = { ...DEFAULT_DDPM_CONFIG, ...input } as Record<string, unknown>;
  const config: DdpmConfig = {
    trainSchedule: parseTrainSchedule(merged['trainSchedule']),
    timestepSpacing: parseTimestepSpacing(merged['timestepSpacing']),
    stepsOffset: parseStepsOffset(merged['stepsOffset']),
    varianceType: parseChoice('varianceType', merged['varianceType'], DDPM_VARIANCE_TYPES),
    predictionType: parseVpPredictionType('DDPM', merged['predictionType']),
  };
  if (parseClipSample(merged['clipSample']) === false) config.clipSample = false;
  return Object.freeze(config);
}
