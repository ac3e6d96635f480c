/**
 * Euler scheduler config: defaults, validation and the compiled readonly
 * form (diffusers' `EulerDiscreteScheduler` config, camelCased, restricted to
 * the deterministic sampler with linear sigma interpolation and discrete
 * timesteps).
 */
import { DEFAULT_TRAIN_SCHEDULE, type TrainSchedule } from '../../common/noise-schedule.ts';
import {
  checkConfigObject,
  parseBoolean,
  parseChoice,
  parseStepsOffset,
  parseTimestepSpacing,
  parseTrainSchedule,
  parseVpPredictionType,
  type VpPredictionType,
} from './config-fields.ts';
import type { TimestepSpacing } from './timestep-spacing.ts';

/** Where the last step lands (diffusers' `final_sigmas_type`). */
export type EulerFinalSigmas = 'zero' | 'sigma_min';

/** All supported final sigma types. */
export const EULER_FINAL_SIGMAS: readonly EulerFinalSigmas[] = ['zero', 'sigma_min'];

/** Serialisable Euler config. */
export interface EulerConfig {
  /** Training noise schedule the model was trained with. */
  trainSchedule: TrainSchedule;
  timestepSpacing: TimestepSpacing;
  /** Added to leading-spaced timesteps (Stable Diffusion uses 1). */
  stepsOffset: number;
  /** Karras et al.'s rho = 7 sigmas between the spaced sigmas' ends. */
  useKarrasSigmas: boolean;
  /** `zero`: the last step lands on x0; `sigma_min`: on sigma(t = 0). */
  finalSigmasType: EulerFinalSigmas;
  predictionType: VpPredictionType;
}

/** Input accepted by {@link parseEulerConfig}: any subset of the fields. */
export type EulerConfigInput = Partial<EulerConfig>;

/**
 * Defaults: Stable Diffusion XL's `scheduler_config.json` (an Euler config:
 * scaled_linear 0.00085..0.012, leading, steps_offset 1), no Karras sigmas,
 * final sigma 0, epsilon prediction. (diffusers' class defaults differ:
 * linear 1e-4..0.02, linspace, steps_offset 0.)
 */
export const DEFAULT_EULER_CONFIG: Readonly<EulerConfig> = Object.freeze({
  trainSchedule: Object.freeze({ ...DEFAULT_TRAIN_SCHEDULE }),
  timestepSpacing: 'leading',
  stepsOffset: 1,
  useKarrasSigmas: false,
  finalSigmasType: 'zero',
  predictionType: 'epsilon',
});

const KEYS: readonly string[] = [
  'trainSchedule',
  'timestepSpacing',
  'stepsOffset',
  'useKarrasSigmas',
  'finalSigmasType',
  'predictionType',
];

/**
 * Merges `input` over {@link DEFAULT_EULER_CONFIG}, validates it and returns a
 * frozen copy. Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseEulerConfig(input: unknown = {}): Readonly<EulerConfig> {
  checkConfigObject('Euler', input, KEYS);
  const merged = { ...DEFAULT_EULER_CONFIG, ...input } as Record<string, unknown>;
  return Object.freeze({
    trainSchedule: parseTrainSchedule(merged['trainSchedule']),
    timestepSpacing: parseTimestepSpacing(merged['timestepSpacing']),
    stepsOffset: parseStepsOffset(merged['stepsOffset']),
    useKarrasSigmas: parseBoolean('useKarrasSigmas', merged['useKarrasSigmas']),
    finalSigmasType: parseChoice('finalSigmasType', merged['finalSigmasType'], EULER_FINAL_SIGMAS),
    predictionType: parseVpPredictionType('Euler', merged['predictionType']),
  });
}
