/**
 * Flow-matching Euler config: defaults, validation and the compiled readonly
 * form (diffusers' `FlowMatchEulerDiscreteScheduler` config, camelCased,
 * restricted to a static timestep shift).
 */
import { checkConfigObject, show } from './config-fields.ts';
import { SchedulerConfigError } from './errors.ts';

/** Serialisable flow-matching Euler config. */
export interface FlowEulerConfig {
  /** Training timesteps T; model timesteps are `sigma * T` (fractional). */
  numTrainTimesteps: number;
  /** Timestep shift `sigma' = shift sigma / (1 + (shift - 1) sigma)`; 1 = no shift. */
  shift: number;
  /** Resolution-dependent shifting needs a per-job `mu`; not supported, so always false. */
  useDynamicShifting: false;
  /** Rectified-flow velocity `v = eps - x0`, the only parameterisation of flow models. */
  predictionType: 'flow';
}

/** Input accepted by {@link parseFlowEulerConfig}: any subset of the fields. */
export type FlowEulerConfigInput = Partial<FlowEulerConfig>;

/**
 * Defaults: Stable Diffusion 3's `scheduler_config.json` (T = 1000,
 * shift 3.0, no dynamic shifting). (diffusers' class default shift is 1.0.)
 */
export const DEFAULT_FLOW_EULER_CONFIG: Readonly<FlowEulerConfig> = Object.freeze({
  numTrainTimesteps: 1000,
  shift: 3.0,
  useDynamicShifting: false,
  predictionType: 'flow',
});

const KEYS: readonly string[] = ['numTrainTimesteps', 'shift', 'useDynamicShifting', 'predictionType'];

/**
 * Merges `input` over {@link DEFAULT_FLOW_EULER_CONFIG}, validates it and
 * returns a frozen copy. Throws {@link SchedulerConfigError} naming the first
 * bad field.
 */
export function parseFlowEulerConfig(input: unknown = {}): Readonly<FlowEulerConfig> {
  checkConfigObject('flow Euler', input, KEYS);
  const merged = { ...DEFAULT_FLOW_EULER_CONFIG, ...input } as Record<string, unknown>;
  const T = merged['numTrainTimesteps'];
  if (!Number.isInteger(T) || (T as number) < 1) {
    throw new SchedulerConfigError('numTrainTimesteps', `numTrainTimesteps must be an integer >= 1, got ${show(T)}`);
  }
  const shift = merged['shift'];
  if (typeof shift !== 'number' || !Number.isFinite(shift) || shift <= 0) {
    throw new SchedulerConfigError('shift', `shift must be a finite number > 0, got ${show(shift)}`);
  }
  const dynamic = merged['useDynamicShifting'];
  if (dynamic !== false) {
    throw new SchedulerConfigError(
      'useDynamicShifting',
      `useDynamicShifting must be false (resolution-dependent shifting is not supported; set a static shift), got ${show(dynamic)}`,
    );
  }
  const predictionType = merged['predictionType'];
  if (predictionType !== 'flow') {
    throw new SchedulerConfigError(
      'predictionType',
      `predictionType must be 'flow' (flow Euler samples rectified-flow models; VP models use ddim, ddpm or euler), got ${show(predictionType)}`,
    );
  }
  return Object.freeze({
    numTrainTimesteps: T as number,
    shift,
    useDynamicShifting: false,
    predictionType,
  });
}
