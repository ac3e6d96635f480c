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

/** Names of job tensors and graph inputs: letters, digits, '_', '.', ':', '/', '-'. */
const tensorName = z.string().regex(/^[A-Za-z_][\w.:/-]*$/, 'must be a tensor name (letters, digits, _ . : / -)');

/**
 * An extra conditioning input and how the coordinator forms it for every
 * window (see coordinator/conditioning/):
 *
 * - `embeddings`: a tensor uploaded with the job (`spec.conditioning[from]`),
 *   e.g. text-encoder hidden states [77, 768] for `encoder_hidden_states`, or
 *   SVD's CLIP image embedding [1, 1024]. The job may instead upload one per
 *   prompt-schedule segment ([segments, ...shape]); each window then gets the
 *   mean of its frames' embeddings, so transitions cross-fade over overlaps.
 *   For classifier-free guidance the unconditional input is
 *   `spec.conditioning[negativeFrom]` when uploaded, else zeros.
 * - `time_ids`: a small vector computed from the job, e.g. SVD's
 *   `added_time_ids` = [fps - 1, motion_bucket_id, noise_aug_strength]; each
 *   value is a number or a job field (`fps`, `fps_minus_one`, `frames`).
 *   The same for cond and uncond.
 * - `image_latent`: a latent image [channels, h, w] at the job's latent size
 *   (`spec.conditioning[from]`); each window gets its spatial crop, which the
 *   worker repeats over the window's frames and concatenates to `sample` on
 *   the channel axis (SVD's image conditioning), so the graph's sample input
 *   has latentChannels + channels channels. Zeros for uncond (as SVD).
 */
const conditioningInput = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('embeddings'),
    input: tensorName,
    from: tensorName,
    negativeFrom: tensorName.optional(),
    shape: z.array(z.number().int().positive()).min(1).max(4),
    /**
     * A text encoder (a `text_encoder` model on the same workers) that turns
     * the job's prompts into these embeddings when the job uploads none:
     * the worker tokenizes and encodes each prompt (cached), windows that
     * straddle a prompt change mix their prompts' embeddings, and the
     * unconditional input is the negative prompt's (empty: "").
     */
    textEncoder: z.string().optional(),
  }),
  z.object({
    source: z.literal('time_ids'),
    input: tensorName,
    values: z.array(z.union([z.number(), z.enum(['fps', 'fps_minus_one', 'frames'])])).min(1).max(64),
  }),
  z.object({
    source: z.literal('image_latent'),
    from: tensorName,
    channels: z.number().int().positive(),
    concat: z.literal('channels'),
    /**
     * The model takes the VAE's latent without the scaling factor (SVD's
     * `latent_dist.mode()`): an input image's latent (image_to_video) is
     * divided by `scalingFactor` before use. Uploaded latents are used as given.
     */
    unscaled: z.boolean().optional(),
  }),
]);

/**
 * Classifier-free guidance: `one_batch` sends each window once with both
 * conditionings and the worker runs cond and uncond as one batch of 2B and
 * returns the guided output (as diffusers' `torch.cat([uncond, cond])`);
 * `two_batches` sends two independent evaluations the dispatcher may place
 * on different workers and the coordinator combines them. Either way
 * out = uncond + scale * (cond - uncond).
 */
const guidanceConfig = z.object({
  batching: z.enum(['one_batch', 'two_batches']),
  /** Scale used when a job sets none (spec.guidance = 0). 1 means no guidance (one evaluation). */
  defaultScale: z.number().min(1).max(50),
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
  /**
   * Axis order of the sample input and the output: `BCFHW` (UNet3D, DiT;
   * the default) or `BFCHW` (Stable Video Diffusion). Latents travel as
   * [C, F, H, W]; the worker transposes.
   */
  sampleLayout: z.enum(['BCFHW', 'BFCHW']).optional(),
  /** Extra conditioning inputs besides sample and timestep (see conditioningInput). */
  conditioning: z.array(conditioningInput).max(16).optional(),
  guidance: guidanceConfig.optional(),
  /**
   * Element type of the graph's float inputs and outputs. `float16` models
   * (exported with `.half()`) get float16 tensors; the worker converts.
   */
  dtype: z.enum(['float32', 'float16']).optional(),
  /**
   * The VAE's scaling factor (0.18215 for SD's VAE): the decoder gets
   * latent / scalingFactor and the encoder's output is multiplied by it.
   */
  scalingFactor: z.number().positive().optional(),
  /** Prompt vocabulary: class names in the order of the class-weights axis. */
  classes: z.array(z.string()).default([]),
  /** Names of the VAE models that pair with this denoiser. */
  decoder: z.string().optional(),
  encoder: z.string().optional(),
  /** Maximum batch the graph accepts (dynamic batch axis). */
  maxBatch: z.number().int().positive().default(64),
  /**
   * A cheap latent -> RGB map for live previews (ComfyUI's latent previews):
   * `rgb = bias + sum_c latent[c] * matrix[c]`, one [r, g, b] row per latent
   * channel, rgb in [0, 1] (clipped), on the latent as the denoiser sees it.
   * Absent: previews decode their frames with `decoder` (docs/previews.md).
   */
  previewMap: z.object({ matrix: z.array(z.tuple([z.number(), z.number(), z.number()])).min(1).max(64), bias: z.tuple([z.number(), z.number(), z.number()]) }).optional(),
}).refine((m) => !m.previewMap || m.previewMap.matrix.length === m.latentChannels, { message: 'must have one row per latent channel', path: ['previewMap', 'matrix'] });

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
  /**
   * Tiled decoding / encoding for frames larger than `size` latent pixels:
   * overlapping tiles (`overlap` latent pixels) run separately and are
   * blended with linear ramps, so memory stays bounded at any resolution
   * (diffusers' `enable_vae_tiling`). Absent: whole frames.
   */
  tile: z
    .object({ size: z.number().int().min(2), overlap: z.number().int().min(0) })
    .refine((t) => t.overlap < t.size, 'overlap must be smaller than size')
    .optional(),
});

/**
 * A text encoder a denoiser's `embeddings` conditioning may name: token ids
 * [B, maxLength] (int64) -> hidden states [B, maxLength, hiddenSize], with
 * its tokenizer's files beside the model (CLIP byte-level BPE:
 * `vocab.json`, `merges.txt`, as a diffusers `tokenizer/` folder holds them).
 */
const textEncoderManifest = z.object({
  kind: z.literal('text_encoder'),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string().default(''),
  file: z.string(),
  input: z.string(),
  output: z.string(),
  maxLength: z.number().int().positive().max(4096),
  hiddenSize: z.number().int().positive(),
  tokenizer: z.object({
    kind: z.literal('clip_bpe'),
    vocab: z.string(),
    merges: z.string(),
    /** Token that pads to maxLength (`<|endoftext|>` unless told; SD 2's OpenCLIP pads with `!`). */
    padToken: z.string().optional(),
  }),
  maxBatch: z.number().int().positive().default(16),
});

export const modelManifestSchema = z.discriminatedUnion('kind', [denoiserManifest, vaeManifest, textEncoderManifest]);

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type DenoiserManifest = z.infer<typeof denoiserManifest>;
export type VaeManifest = z.infer<typeof vaeManifest>;
export type TextEncoderManifest = z.infer<typeof textEncoderManifest>;
export type ConditioningInput = z.infer<typeof conditioningInput>;
export type GuidanceConfig = z.infer<typeof guidanceConfig>;

/**
 * Key of a conditioning input in an Evaluate item's `cond`, `uncond`,
 * `prompts` and `negative_prompts` maps: its graph input, or the job tensor
 * of a concatenated image latent.
 */
export function conditioningKey(c: ConditioningInput): string {
  return c.source === 'image_latent' ? c.from : c.input;
}

/** Per-item shape of a conditioning input (no batch axis); image latents: [channels] (the window's H, W follow). */
export function conditioningShape(c: ConditioningInput): number[] {
  return c.source === 'embeddings' ? [...c.shape] : c.source === 'time_ids' ? [c.values.length] : [c.channels];
}
