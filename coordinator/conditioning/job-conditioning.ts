import { conditioningKey, conditioningShape, type ConditioningInput, type DenoiserManifest } from '../../common/manifest.ts';
import type { HostTensor } from '../../common/tensor-codec.ts';
import type { KnownRegion } from '../modes/known-region.ts';
import { PROMPT_PREFIX, PROMPT_WEIGHTS_PREFIX, encodePromptBytes } from '../../common/prompt-wire.ts';
import type { EvalItem } from '../cluster/eval-request.ts';
import type { Window } from '../layout/types.ts';
import { loadTensor, type StoredTensor } from './job-tensors.ts';

/**
 * Forms a job's extra conditioning for every window and applies
 * classifier-free guidance, as the model's manifest describes
 * (common/manifest.ts, `conditioning` and `guidance`):
 *
 * - embeddings: the uploaded tensor, the same for every window; or, with one
 *   per prompt-schedule segment, the mean over the window's frames of their
 *   segment's embedding (a window straddling a change blends both). With no
 *   upload and a `textEncoder` in the manifest, the window's prompts (and
 *   their shares) instead, which the workers encode.
 * - time_ids: the manifest's values with job fields filled in (fps, frames).
 * - image_latent: the window's spatial crop of the uploaded latent image;
 *   the worker repeats it over frames and concatenates it to the sample.
 * - guidance (scale > 1): `one_batch` sends each window once with its
 *   unconditional inputs beside (keys `uncond:<key>`) and the scale, and the
 *   worker runs both halves as one batch; `two_batches` sends a conditional
 *   and an unconditional evaluation and combines them here. Either way
 *   out = uncond + scale * (cond - uncond). Unconditional inputs: the
 *   negative embeddings when uploaded, else zeros; zeros for image latents;
 *   time ids unchanged.
 */

/** What the job contributes. */
export interface JobConditioningOptions {
  manifest: DenoiserManifest;
  /** Tensors uploaded with the job, as validated (job-tensors.ts). */
  tensors: Record<string, StoredTensor> | undefined;
  /** Guidance scale; <= 1 means none. */
  guidance: number;
  fps: number;
  /** Job length in pixel frames. */
  frames: number;
  /** Prompt-schedule segment starts in pixel frames (one entry, 0, without a schedule). */
  segmentStarts: readonly number[];
  /** The segments' prompts (same order), for embeddings a text encoder on the workers makes. */
  prompts?: readonly string[];
  /** The negative prompt ('' unless set), likewise. */
  negativePrompt?: string;
  /** image_to_video: the input image's latent [C, h, w] (see `inputImageLatent`), for image latents not uploaded. */
  inputImage?: HostTensor;
}

/**
 * The input image's latent [C, h, w] of an image_to_video job, from the
 * known region the masked modes prepared (its first frame, when it covers
 * the whole frame); undefined otherwise.
 */
export function inputImageLatent(region: Pick<KnownRegion, 'dims' | 'box' | 'data'> | undefined): HostTensor | undefined {
  if (!region) return undefined;
  const { dims, box, data } = region;
  if (box.f0 !== 0 || box.h0 !== 0 || box.w0 !== 0 || box.height !== dims.height || box.width !== dims.width) return undefined;
  const plane = box.height * box.width;
  const out = new Float32Array(dims.channels * plane);
  for (let c = 0; c < dims.channels; c++) out.set(data.subarray(c * box.frames * plane, c * box.frames * plane + plane), c * plane);
  return { shape: [dims.channels, dims.height, dims.width], data: out };
}

/** A window's item before conditioning. */
export interface WindowEvalItem {
  window: Window;
  item: EvalItem;
}

type Named = Record<string, { data: Float32Array; shape: readonly number[] }>;

/** Wire key prefix of unconditional values, and the scale's key (worker/item-conditioning.ts). */
const UNCOND_PREFIX = 'uncond:';
const GUIDANCE_SCALE_KEY = 'guidance_scale';

export class JobConditioning {
  private readonly m: DenoiserManifest;
  private readonly conds: readonly ConditioningInput[];
  private readonly tensors = new Map<string, HostTensor>();
  private readonly scale: number;
  private readonly timeIds = new Map<string, Float32Array>();
  /** Embedding mixes by window segment weights (most windows share one). */
  private readonly mixes = new Map<string, Float32Array>();
  private readonly zeros = new Map<string, Float32Array>();
  /** The input image's latent as a tensor [C, h, w], when the job has one (image_to_video). */
  private readonly inputImage: HostTensor | undefined;
  private unscaledImage: HostTensor | undefined;

  constructor(private readonly opts: JobConditioningOptions) {
    this.m = opts.manifest;
    this.conds = opts.manifest.conditioning ?? [];
    for (const [name, t] of Object.entries(opts.tensors ?? {})) this.tensors.set(name, loadTensor(t));
    this.scale = opts.manifest.guidance && opts.guidance > 1 ? opts.guidance : 1;
    this.inputImage = opts.inputImage;
    for (const c of this.conds) {
      if (c.source !== 'time_ids') continue;
      this.timeIds.set(c.input, Float32Array.from(c.values, (v) => (typeof v === 'number' ? v : v === 'fps' ? opts.fps : v === 'fps_minus_one' ? opts.fps - 1 : opts.frames)));
    }
  }

  /** Whether the job needs anything beyond the plain items. */
  get active(): boolean {
    return this.conds.length > 0 || this.scale > 1;
  }

  /** Evaluations per window item (2 with two-batch guidance). */
  get evaluationsPerItem(): number {
    return this.scale > 1 && this.m.guidance?.batching === 'two_batches' ? 2 : 1;
  }

  /**
   * Evaluates `items` through `run` (the worker pool) with each window's
   * conditioning and guidance; returns one (guided) output per item.
   */
  async evaluate(items: readonly WindowEvalItem[], run: (items: EvalItem[]) => Promise<Float32Array[]>): Promise<Float32Array[]> {
    if (!this.active) return run(items.map((it) => it.item));
    const guided = this.scale > 1;
    if (!guided || this.m.guidance?.batching === 'one_batch') {
      return run(
        items.map(({ window, item }) => {
          const conditioning = this.forWindow(window, false);
          if (guided) {
            for (const [k, v] of Object.entries(this.forWindow(window, true))) conditioning[UNCOND_PREFIX + k] = v;
            conditioning[GUIDANCE_SCALE_KEY] = { data: Float32Array.of(this.scale), shape: [1] };
          }
          return { ...item, conditioning };
        }),
      );
    }
    // Two batches: cond and uncond as independent evaluations, combined here.
    const expanded: EvalItem[] = [];
    for (const { window, item } of items) {
      // Two answers per item: neither may be decoded into the item's one output array.
      expanded.push({ ...item, output: undefined, conditioning: this.forWindow(window, false) });
      expanded.push({ ...item, output: undefined, conditioning: this.forWindow(window, true) });
    }
    const outs = await run(expanded);
    return items.map(({ item }, i) => {
      const cond = outs[2 * i]!;
      const uncond = outs[2 * i + 1]!;
      const mixed = item.output?.length === cond.length ? item.output : new Float32Array(cond.length);
      for (let j = 0; j < cond.length; j++) mixed[j] = uncond[j]! + this.scale * (cond[j]! - uncond[j]!);
      return mixed;
    });
  }

  /**
   * A window's conditioning inputs by wire key; `uncond` gives the
   * unconditional ones, leaving out what the worker fills in itself (zeros
   * for embeddings without negatives and for image latents, time ids as
   * they are) when guidance runs in one batch.
   */
  forWindow(w: Window, uncond: boolean): Named {
    const out: Named = {};
    const oneBatch = this.m.guidance?.batching === 'one_batch';
    for (const c of this.conds) {
      const key = conditioningKey(c);
      if (c.source === 'time_ids') {
        if (!uncond || !oneBatch) out[key] = { data: this.timeIds.get(c.input)!, shape: [c.values.length] };
      } else if (c.source === 'embeddings') {
        const shape = conditioningShape(c);
        const from = uncond ? c.negativeFrom : c.from;
        const t = from ? this.tensors.get(from) : undefined;
        if (t) out[key] = { data: this.embeddingFor(from!, t, shape, w), shape };
        else if (c.textEncoder && (uncond || !this.tensors.has(c.from))) this.promptsFor(c.input, w, uncond, out);
        else if (uncond && !oneBatch) out[key] = { data: this.zerosFor(key, shape), shape };
      } else if (!uncond) {
        const t = this.tensors.get(c.from) ?? this.inputImageFor(c.unscaled === true);
        if (t) out[key] = { data: crop(t, w), shape: [c.channels, w.height, w.width] };
      }
    }
    return out;
  }

  /**
   * Prompt texts for a text encoder on the workers (common/prompt-wire.ts):
   * the window's segment prompts with their frame shares, or the negative
   * prompt ('' when unset, as CLIP-conditioned pipelines use) for uncond.
   */
  private promptsFor(input: string, w: Window, uncond: boolean, out: Named): void {
    if (uncond) {
      // One batch: `evaluate` sends it as "uncond:prompt:<input>" (UNCOND_PROMPT_PREFIX).
      const text = encodePromptBytes([this.opts.negativePrompt ?? '']);
      out[PROMPT_PREFIX + input] = { data: text, shape: [text.length] };
      return;
    }
    const prompts = this.opts.prompts ?? [''];
    const weights = segmentWeights(this.opts.segmentStarts, w.f0, w.frames, this.m.vaeScale.temporal);
    const used = prompts.map((p, i) => ({ p, w: weights[i] ?? 0 })).filter((x) => x.w > 0);
    const text = encodePromptBytes(used.map((x) => x.p));
    out[PROMPT_PREFIX + input] = { data: text, shape: [text.length] };
    if (used.length > 1) out[PROMPT_WEIGHTS_PREFIX + input] = { data: Float32Array.from(used, (x) => x.w), shape: [used.length] };
  }

  /** The input image's latent, divided by the VAE scaling factor for models that take it unscaled. */
  private inputImageFor(unscaled: boolean): HostTensor | undefined {
    const image = this.inputImage;
    const factor = this.m.scalingFactor ?? 1;
    if (!image || !unscaled || factor === 1) return image;
    this.unscaledImage ??= { shape: image.shape, data: image.data.map((v) => v / factor) };
    return this.unscaledImage;
  }

  /** Zeros of `shape`, one array per input (read only, like every value handed out). */
  private zerosFor(key: string, shape: readonly number[]): Float32Array {
    let z = this.zeros.get(key);
    if (!z) this.zeros.set(key, (z = new Float32Array(shape.reduce((p, d) => p * d, 1))));
    return z;
  }

  /** An embedding for window `w`: the tensor itself, or its segments mixed by the window's frames. */
  private embeddingFor(name: string, t: HostTensor, shape: readonly number[], w: Window): Float32Array {
    if (t.shape.length === shape.length) return t.data;
    const segments = t.shape[0]!;
    const size = t.data.length / segments;
    const weights = segmentWeights(this.opts.segmentStarts, w.f0, w.frames, this.m.vaeScale.temporal);
    const key = `${name}|${Array.from(weights, (x) => x.toFixed(6)).join(',')}`;
    let mix = this.mixes.get(key);
    if (!mix) {
      mix = new Float32Array(size);
      for (let s = 0; s < segments; s++) {
        const ws = weights[s]!;
        if (ws === 0) continue;
        for (let j = 0; j < size; j++) mix[j]! += ws * t.data[s * size + j]!;
      }
      this.mixes.set(key, mix);
    }
    return mix;
  }
}

/**
 * Share of each prompt-schedule segment among latent frames [f0, f0 + n)
 * (pixel frame = latent frame * temporalScale), as the class-weight mixing
 * of class-conditioned models does it.
 */
export function segmentWeights(starts: readonly number[], f0: number, n: number, temporalScale: number): Float64Array {
  const out = new Float64Array(starts.length);
  for (let f = f0; f < f0 + n; f++) {
    const pixel = f * temporalScale;
    let seg = 0;
    for (let s = 0; s < starts.length; s++) if (starts[s]! <= pixel) seg = s;
    out[seg]! += 1 / n;
  }
  return out;
}

/** The window's spatial crop [c, H, W] of a latent image [c, h, w]. */
function crop(t: HostTensor, w: Window): Float32Array {
  const [c, h, wd] = t.shape as [number, number, number];
  const out = new Float32Array(c * w.height * w.width);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < w.height; y++) {
      const src = (ch * h + w.y0 + y) * wd + w.x0;
      out.set(t.data.subarray(src, src + w.width), (ch * w.height + y) * w.width);
    }
  }
  return out;
}
