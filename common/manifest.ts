import { z } from 'zod';

/**
 * `manifest.json` beside every model file: what a worker needs to load and
 * serve the model, and what a coordinator needs to plan jobs for it.
 * Denoisers, decoders and encoders share one schema with a `kind`.
 */

const trainSchedule = z.object({
  numTrainTimesteps: z.number().int().positive(),
  betaSchedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']),
  betaStart: z.number().positive(),
  betaEnd: z.number().positive(),
});

const denoiserManifest = z.object({
  kind: z.literal('denoiser'),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string().default(''),
  /** ONNX file relative to the manifest. */
  file: z.string(),
  /** Native window of the latent the model was trained on. */
  latentChannels: z.number().int().positive(),
  nativeFrames: z.number().int().positive(),
  nativeHeight: z.number().int().positive(),
  nativeWidth: z.number().int().positive(),
  /** Pixels per latent element: spatial (height and width) and temporal. */
  vaeScale: z.object({ spatial: z.number().int().positive(), temporal: z.number().int().positive() }),
  predictionType: z.enum(['epsilon', 'sample', 'v_prediction', 'flow']),
  trainSchedule: trainSchedule,
  /**
   * Forward process: `'vp'` (x_t = sqrt(abar) x0 + sqrt(1 - abar) eps) or
   * `'flow'` (rectified flow x_t = (1 - t) x0 + t eps). Absent means `'vp'`.
   * For flow models `trainSchedule` is still required but only its
   * `numTrainTimesteps` is used, as the timestep scale (model timestep =
   * numTrainTimesteps * t, 1000 in the SD3 convention); the betas are unused.
   * (Optional rather than defaulted, so the parsed type stays assignable
   * from manifests written without it.)
   */
  process: z.enum(['vp', 'flow']).optional(),
  /** Scheduler to use when a job names none: a scheduler kind (`ddim`, `flow_euler`, ...) and its config. */
  defaultScheduler: z.object({ kind: z.string(), config: z.record(z.string(), z.unknown()) }).optional(),
  /** Graph input and output names. */
  inputs: z.object({
    sample: z.string(),
    timestep: z.string(),
    /** Conditioning as a prior over named classes [B, K] (reference models). */
    classWeights: z.string().optional(),
  }),
  output: z.string(),
  /** Prompt vocabulary: class names in the order of the class-weights axis. */
  classes: z.array(z.string()).default([]),
  /** Names of the VAE models that pair with this denoiser. */
  decoder: z.string().optional(),
  encoder: z.string().optional(),
  /** Maximum batch the graph accepts (dynamic batch axis). */
  maxBatch: z.number().int().positive().default(64),
});

const vaeManifest = z.object({
  kind: z.enum(['decoder', 'encoder']),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string().default(''),
  file: z.string(),
  latentChannels: z.number().int().positive(),
  /** Decoder: latent frame [B, C, h, w] -> rgb [B, 3, h*s, w*s] in [0, 1]. Encoder: the inverse. */
  spatialScale: z.number().int().positive(),
  input: z.string(),
  output: z.string(),
  maxBatch: z.number().int().positive().default(64),
});

export const modelManifestSchema = z.discriminatedUnion('kind', [denoiserManifest, vaeManifest]);

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type DenoiserManifest = z.infer<typeof denoiserManifest>;
export type VaeManifest = z.infer<typeof vaeManifest>;
