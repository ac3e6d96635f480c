/**
 * DDPM scheduler config (diffusers' `DDPMScheduler` config, camelCased,
 * restricted to what the cluster supports): the zod schema with its
 * defaults, and the compiled readonly form.
 */
import { z } from 'zod';
import { choiceSchema, clipSampleSchema, parseSchedulerConfig, vpConfigFields } from './config-fields.ts';

/**
 * Variance of the ancestral noise (diffusers' `variance_type`):
 * - `fixed_small`: the posterior variance `beta~_t = (1 - abar_prev)/(1 - abar_t) beta_t`;
 * - `fixed_large`: `beta_t` itself.
 * Learned variances need a model that outputs them and are not supported.
 */
export type DdpmVarianceType = 'fixed_small' | 'fixed_large';

/** All supported variance types. */
export const DDPM_VARIANCE_TYPES: readonly DdpmVarianceType[] = ['fixed_small', 'fixed_large'];

/**
 * Defaults: Stable Diffusion's `scheduler_config.json` schedule and spacing
 * (see {@link vpConfigFields}), as for DDIM, with diffusers' `fixed_small`
 * variance. (diffusers' class defaults differ: linear 1e-4..0.02,
 * steps_offset 0, clip_sample true.)
 */
export const ddpmConfigSchema = z.strictObject({
  ...vpConfigFields('DDPM'),
  varianceType: choiceSchema(DDPM_VARIANCE_TYPES).default('fixed_small'),
  clipSample: clipSampleSchema,
});

/** Serialisable DDPM config. */
export type DdpmConfig = z.output<typeof ddpmConfigSchema>;

/** Input accepted by {@link parseDdpmConfig}: any subset of the fields. */
export type DdpmConfigInput = z.input<typeof ddpmConfigSchema>;

/**
 * Merges `input` over the defaults, validates it and returns a frozen copy.
 * Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseDdpmConfig(input: unknown = {}): Readonly<DdpmConfig> {
  return parseSchedulerConfig('DDPM', ddpmConfigSchema, input);
}

/** The defaults, as parsed from `{}`. */
export const DEFAULT_DDPM_CONFIG: Readonly<DdpmConfig> = parseDdpmConfig();
