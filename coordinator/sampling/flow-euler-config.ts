/**
 * Flow-matching Euler config (diffusers' `FlowMatchEulerDiscreteScheduler`
 * config, camelCased, restricted to a static timestep shift): the zod schema
 * with its defaults, and the compiled readonly form.
 */
import { z } from 'zod';
import { mustBe, parseSchedulerConfig } from './config-fields.ts';

/**
 * Defaults: Stable Diffusion 3's `scheduler_config.json` (T = 1000,
 * shift 3.0, no dynamic shifting). (diffusers' class default shift is 1.0.)
 */
export const flowEulerConfigSchema = z.strictObject({
  /** Training timesteps T; model timesteps are `sigma * T` (fractional). */
  numTrainTimesteps: z.int({ error: mustBe('an integer >= 1') }).min(1).default(1000),
  /** Timestep shift `sigma' = shift sigma / (1 + (shift - 1) sigma)`; 1 = no shift. */
  shift: z.number({ error: mustBe('a finite number > 0') }).gt(0).default(3.0),
  /** Resolution-dependent shifting needs a per-job `mu`; not supported, so always false. */
  useDynamicShifting: z
    .literal(false, { error: mustBe('false (resolution-dependent shifting is not supported; set a static shift)') })
    .default(false),
  /** Rectified-flow velocity `v = eps - x0`, the only parameterisation of flow models. */
  predictionType: z
    .literal('flow', { error: mustBe(`'flow' (flow Euler samples rectified-flow models; VP models use ddim, ddpm or euler)`) })
    .default('flow'),
});

/** Serialisable flow-matching Euler config. */
export type FlowEulerConfig = z.output<typeof flowEulerConfigSchema>;

/** Input accepted by {@link parseFlowEulerConfig}: any subset of the fields. */
export type FlowEulerConfigInput = z.input<typeof flowEulerConfigSchema>;

/**
 * Merges `input` over the defaults, validates it and returns a frozen copy.
 * Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseFlowEulerConfig(input: unknown = {}): Readonly<FlowEulerConfig> {
  return parseSchedulerConfig('flow Euler', flowEulerConfigSchema, input);
}

/** The defaults, as parsed from `{}`. */
export const DEFAULT_FLOW_EULER_CONFIG: Readonly<FlowEulerConfig> = parseFlowEulerConfig();
