/**
 * Field validators shared by the scheduler configs (DDIM, DDPM, Euler, flow
 * Euler). Each throws a {@link SchedulerConfigError} that names the field and
 * shows the value received, so a user editing a job spec sees
 * `stepsOffset must be an integer >= 0, got -1` rather than a schema dump.
 */
import type { BetaSchedule, TrainSchedule } from '../../common/noise-schedule.ts';
import { SchedulerConfigError } from './errors.ts';
import type { PredictionType } from './prediction.ts';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from './timestep-spacing.ts';

/** Prediction types of VP (and VE) schedulers: everything but rectified flow. */
export type VpPredictionType = Exclude<PredictionType, 'flow'>;

/** {@link VpPredictionType}s, for validation messages. */
export const VP_PREDICTION_TYPES: readonly VpPredictionType[] = ['epsilon', 'sample', 'v_prediction'];

const TRAIN_KEYS: readonly string[] = ['numTrainTimesteps', 'betaSchedule', 'betaStart', 'betaEnd'];
const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as it appears in error messages: strings quoted, the rest via `String`. */
export function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/**
 * Checks that `input` is an object whose keys are all in `keys`.
 * `label` names the scheduler in messages (`unknown DDPM config field 'eta'`).
 */
export function checkConfigObject(
  label: string,
  input: unknown,
  keys: readonly string[],
): asserts input is Record<string, unknown> {
  if (!isRecord(input)) throw new SchedulerConfigError('config', `${label} config must be an object, got ${show(input)}`);
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) throw new SchedulerConfigError(key, `unknown ${label} config field '${key}'`);
  }
}

/** Validates a training noise schedule (all four fields required) and returns a frozen copy. */
export function parseTrainSchedule(value: unknown): Readonly<TrainSchedule> {
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

/** One of `allowed`, or a SchedulerConfigError naming `field`. */
export function parseChoice<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new SchedulerConfigError(field, `${field} must be one of ${allowed.join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

/** A timestep spacing (leading, trailing, linspace). */
export function parseTimestepSpacing(value: unknown): TimestepSpacing {
  return parseChoice('timestepSpacing', value, TIMESTEP_SPACINGS);
}

/** An integer >= 0 (`stepsOffset`). */
export function parseStepsOffset(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0) {
    throw new SchedulerConfigError('stepsOffset', `stepsOffset must be an integer >= 0, got ${show(value)}`);
  }
  return value as number;
}

/** A boolean field. */
export function parseBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SchedulerConfigError(field, `${field} must be a boolean, got ${show(value)}`);
  return value;
}

/**
 * A VP prediction type; `flow` gets its own message, since it is the usual
 * mistake (a rectified-flow model configured with a VP scheduler).
 */
export function parseVpPredictionType(label: string, value: unknown): VpPredictionType {
  if (value === 'flow') {
    throw new SchedulerConfigError(
      'predictionType',
      `predictionType 'flow' is a rectified-flow parameterisation; ${label} is a VP scheduler (use epsilon, sample or v_prediction)`,
    );
  }
  return parseChoice('predictionType', value, VP_PREDICTION_TYPES);
}

/** `clipSample` may be absent or `false`: x0 clipping is not supported. */
export function parseClipSample(value: unknown): false | undefined {
  if (value !== undefined && value !== false) {
    throw new SchedulerConfigError('clipSample', `clipSample is not supported; omit it or set false, got ${show(value)}`);
  }
  return value;
}
