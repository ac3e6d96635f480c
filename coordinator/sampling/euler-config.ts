/**
 * Euler scheduler config (diffusers' `EulerDiscreteScheduler` config,
 * camelCased, restricted to the deterministic sampler with linear sigma
 * interpolation and discrete timesteps): the zod schema with its defaults,
 * and the compiled readonly form.
 */
import { z } from 'zod';
import { booleanSchema, choiceSchema, parseSchedulerConfig, vpConfigFields } from './config-fields.ts';

/** Where the last step lands (diffusers' `final_sigmas_type`). */
export type EulerFinalSigmas = 'zero' | 'sigma_min';

/** All supported final sigma types. */
export const EULER_FINAL_SIGMAS: readonly EulerFinalSigmas[] = ['zero', 'sigma_min'];

/**
 * Defaults: Stable Diffusion XL's `scheduler_config.json` (an Euler config;
 * see {@link vpConfigFields}), no Karras sigmas, final sigma 0. (diffusers'
 * class defaults differ: linear 1e-4..0.02, linspace, steps_offset 0.)
 */
export const eulerConfigSchema = z.strictObject({
  ...vpConfigFields('Euler'),
  /** Karras et al.'s rho = 7 sigmas between the spaced sigmas' ends. */
  useKarrasSigmas: booleanSchema.default(false),
  /** `zero`: the last step lands on x0; `sigma_min`: on sigma(t = 0). */
  finalSigmasType: choiceSchema(EULER_FINAL_SIGMAS).default('zero'),
});

/** Serialisable Euler config. */
export type EulerConfig = z.output<typeof eulerConfigSchema>;

/** Input accepted by {@link parseEulerConfig}: any subset of the fields. */
export type EulerConfigInput = z.input<typeof eulerConfigSchema>;

/**
 * Merges `input` over the defaults, validates it and returns a frozen copy.
 * Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseEulerConfig(input: unknown = {}): Readonly<EulerConfig> {
  return parseSchedulerConfig('Euler', eulerConfigSchema, input);
}

/** The defaults, as parsed from `{}`. */
export const DEFAULT_EULER_CONFIG: Readonly<EulerConfig> = parseEulerConfig();
