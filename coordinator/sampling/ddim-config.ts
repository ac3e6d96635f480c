/**
 * DDIM scheduler config (diffusers' `DDIMScheduler` config, camelCased): the
 * zod schema with its defaults, and the compiled readonly form.
 */
import { z } from 'zod';
import { booleanSchema, clipSampleSchema, mustBe, parseSchedulerConfig, vpConfigFields } from './config-fields.ts';

/** Prediction types DDIM accepts (VP parameterisations only). */
export type { VpPredictionType } from './config-fields.ts';

/**
 * Defaults: Stable Diffusion's `scheduler_config.json` (see
 * {@link vpConfigFields}), set_alpha_to_one false, deterministic (eta 0).
 */
export const ddimConfigSchema = z.strictObject({
  ...vpConfigFields('DDIM'),
  /** Stochasticity: 0 = deterministic DDIM, 1 = DDPM-like ancestral noise. */
  eta: z.number({ error: mustBe('a finite number >= 0') }).min(0).default(0),
  /** Last step lands on abar = 1 (true) or on abar_0 (false), diffusers' `final_alpha_cumprod`. */
  setAlphaToOne: booleanSchema.default(false),
  clipSample: clipSampleSchema,
});

/** Serialisable DDIM config. */
export type DdimConfig = z.output<typeof ddimConfigSchema>;

/** Input accepted by {@link parseDdimConfig}: any subset of the fields. */
export type DdimConfigInput = z.input<typeof ddimConfigSchema>;

/**
 * Merges `input` over the defaults, validates it and returns a frozen copy.
 * Throws {@link SchedulerConfigError} naming the first bad field.
 */
export function parseDdimConfig(input: unknown = {}): Readonly<DdimConfig> {
  return parseSchedulerConfig('DDIM', ddimConfigSchema, input);
}

/** The defaults, as parsed from `{}`. */
export const DEFAULT_DDIM_CONFIG: Readonly<DdimConfig> = parseDdimConfig();
