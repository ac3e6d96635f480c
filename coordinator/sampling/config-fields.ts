/**
 * zod schemas of the fields the scheduler configs share (training schedule,
 * timestep spacing, steps offset, VP prediction type) and the one parser
 * that turns a schema's first issue into a {@link SchedulerConfigError}
 * naming the field and the value received, so a user editing a job spec sees
 * `stepsOffset must be an integer >= 0, got -1` rather than a schema dump.
 *
 * Each field schema carries its whole rule as its error (`mustBe(...)`),
 * so a wrong type and an out-of-range value read the same.
 */
import { z } from 'zod';
import { DEFAULT_TRAIN_SCHEDULE, type BetaSchedule } from '../../common/noise-schedule.ts';
import { SchedulerConfigError } from './errors.ts';
import type { PredictionType } from './prediction.ts';
import { TIMESTEP_SPACINGS } from './timestep-spacing.ts';

/** Prediction types of VP (and VE) schedulers: everything but rectified flow. */
export type VpPredictionType = Exclude<PredictionType, 'flow'>;

/** {@link VpPredictionType}s, for validation messages. */
export const VP_PREDICTION_TYPES: readonly VpPredictionType[] = ['epsilon', 'sample', 'v_prediction'];

const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** A value as it appears in error messages: strings quoted, arrays and objects as JSON, the rest via `String`. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v); // cyclic: no JSON form
    }
  }
  return String(v);
}

/** A zod error function: `must be <rule>, got <value>` (the parser puts the field path in front). */
export function mustBe(rule: string): (issue: { input?: unknown }) => string {
  return (issue) => `must be ${rule}, got ${show(issue.input)}`;
}

/** One of `values`; `error` replaces the default message `must be one of <values>, got <value>`. */
export function choiceSchema<T extends string>(values: readonly T[], error = mustBe(`one of ${values.join(', ')}`)) {
  return z.enum(values as unknown as [T, ...T[]], { error });
}

/** A training noise schedule: all four fields, no others. */
export const trainScheduleSchema = z.strictObject(
  {
    numTrainTimesteps: z.int({ error: mustBe('an integer >= 1') }).min(1),
    betaSchedule: choiceSchema(BETA_SCHEDULES),
    betaStart: z.number({ error: mustBe('in (0, 1)') }).gt(0).lt(1),
    betaEnd: z.number({ error: mustBe('in (0, 1)') }).gt(0).lt(1),
  },
  { error: mustBe('an object') },
);

/** A boolean field. */
export const booleanSchema = z.boolean({ error: mustBe('a boolean') });

/**
 * The fields every VP scheduler config (DDIM, DDPM, Euler) has, with Stable
 * Diffusion's `scheduler_config.json` as defaults (scaled_linear
 * 0.00085..0.012, leading spacing, steps_offset 1) and epsilon prediction.
 * `label` names the scheduler in the message for a flow prediction type,
 * the usual mistake (a rectified-flow model configured with a VP scheduler).
 */
export function vpConfigFields(label: string) {
  return {
    /** Training noise schedule the model was trained with. */
    trainSchedule: trainScheduleSchema.default(() => ({ ...DEFAULT_TRAIN_SCHEDULE })),
    timestepSpacing: choiceSchema(TIMESTEP_SPACINGS).default('leading'),
    /** Added to leading-spaced timesteps (Stable Diffusion uses 1). */
    stepsOffset: z.int({ error: mustBe('an integer >= 0') }).min(0).default(1),
    predictionType: choiceSchema(VP_PREDICTION_TYPES, (issue) =>
      issue.input === 'flow'
        ? `'flow' is a rectified-flow parameterisation; ${label} is a VP scheduler (use epsilon, sample or v_prediction)`
        : mustBe(`one of ${VP_PREDICTION_TYPES.join(', ')}`)(issue),
    ).default('epsilon'),
  };
}

/** `clipSample` may be absent or `false`: x0 clipping is not supported; the field exists so diffusers configs map one to one. */
export const clipSampleSchema = z
  .literal(false, { error: (issue) => `is not supported; omit it or set false, got ${show(issue.input)}` })
  .optional();

/**
 * Parses `input` (any subset of the fields; missing ones take the schema's
 * defaults) and returns a frozen copy. `label` names the scheduler in
 * messages (`unknown DDPM config field 'eta'`).
 *
 * @throws SchedulerConfigError naming the first bad field (unknown fields first).
 */
export function parseSchedulerConfig<S extends z.ZodType>(label: string, schema: S, input: unknown): Readonly<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw configError(label, input, parsed.error.issues);
  const config = parsed.data as Record<string, unknown>;
  for (const value of Object.values(config)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(config) as Readonly<z.output<S>>;
}

function configError(label: string, input: unknown, issues: readonly z.core.$ZodIssue[]): SchedulerConfigError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const owner = path.length === 0 ? `${label} config` : path.join('.');
    return new SchedulerConfigError([...path, key].join('.'), `unknown ${owner} field '${key}'`);
  }
  if (path.length === 0) return new SchedulerConfigError('config', `${label} config must be an object, got ${show(input)}`);
  const field = path.join('.');
  return new SchedulerConfigError(field, `${field} ${issue.message}`);
}
