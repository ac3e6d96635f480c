import { conditioningKey, conditioningShape, type ConditioningInput, type DenoiserManifest } from '../../common/manifest.ts';
import type { HostTensor } from '../../common/tensor-codec.ts';
import type { KnownRegion } from '../modes/known-region.ts';
import type { Window } from '../layout/types.ts';
import type { ConditioningTensor, NamedPrompts, WeightedPrompt, WindowConditioning, WindowWork } from '../layout/window-work.ts';
import { classWeightsTensor } from './class-weights.ts';
import { loadTensor, type StoredTensor } from './job-tensors.ts';

/**
 * Forms a job's conditioning for every window and applies classifier-free
 * guidance, as the model's manifest describes (common/manifest.ts,
 * `inputs.classWeights`, `conditioning` and `guidance`). Every input is a
 * named tensor, keyed by its manifest conditioning key:
 *
 * - class weights (class-conditioned models): the window's mix of its
 *   prompt-schedule segments' weights, under the graph input's name; sent
 *   as float32 (float16 would round 1/6).
 * - embeddings: the uploaded tensor, the same for every window; or, with one
 *   per prompt-schedule segment, the mean over the window's frames of their
 *   segment's embedding (a window straddling a change blends both). With no
 *   upload and a `textEncoder` in the manifest, the window's prompts (and
 *   their shares) instead, as text, which the workers encode.
 * - time_ids: the manifest's values with job fields filled in (fps, frames).
 * - image_latent: the window's spatial crop of the uploaded latent image;
 *   the worker repeats it over frames and concatenates it to the sample.
 * - guidance (scale > 1): `one_batch` sends each window once with its
 *   unconditional inputs and the scale beside, and the worker runs both
 *   halves as one batch; `two_batches` sends a conditional and an
 *   unconditional evaluation and combines them here. Either way
 *   out = uncond + scale * (cond - uncond). Unconditional inputs: the
 *   negative embeddings (or negative prompt) when given, else zeros; zeros
 *   for image latents; time ids unchanged.
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
  /** Class weights [K] of a window, for models that take them (manifest `inputs.classWeights`). */
  classWeightsFor?: (w: Window) => Float32Array;
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

/** One branch's inputs: tensors and prompts by conditioning key. */
interface Branch {
  tensors: Record<string, ConditioningTensor>;
  prompts: Record<string, WeightedPrompt[]>;
}

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
  /** Two-batch guidance: each window's unconditional conditioning. */
  private readonly uncond = new Map<number, WindowConditioning>();

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

  /** Whether the job conditions its windows on anything. */
  get active(): boolean {
    return this.conds.length > 0 || this.scale > 1 || (!!this.opts.classWeightsFor && !!this.m.inputs.classWeights);
  }

  /** Evaluations per window item (2 with two-batch guidance). */
  get evaluationsPerItem(): number {
    return this.twoBatches ? 2 : 1;
  }

  private get twoBatches(): boolean {
    return this.scale > 1 && this.m.guidance?.batching === 'two_batches';
  }

  /**
   * What window `w` is conditioned on (the composite denoiser asks once per
   * window): the conditional inputs, and with one-batch guidance the
   * unconditional ones and the scale; undefined when the job has none.
   */
  forWindow(w: Window): WindowConditioning | undefined {
    if (!this.active) return undefined;
    const cond = this.branch(w, false);
    const conditioning: WindowConditioning = { cond: cond.tensors, ...nonEmpty(cond.prompts) };
    if (this.scale <= 1 || this.twoBatches) return conditioning;
    const uncond = this.branch(w, true);
    const negative = nonEmpty(uncond.prompts);
    return { ...conditioning, guidance: { scale: this.scale, uncond: uncond.tensors, ...(negative.prompts ? { negativePrompts: negative.prompts } : {}) } };
  }

  /**
   * Evaluates `items` through `run` (the worker pool); with two-batch
   * guidance each window goes twice, conditional and unconditional, and the
   * two answers are combined here. Returns one (guided) output per item.
   */
  async evaluate(items: readonly WindowWork[], run: (items: WindowWork[]) => Promise<Float32Array[]>): Promise<Float32Array[]> {
    if (!this.twoBatches) return run([...items]);
    const expanded: WindowWork[] = [];
    for (const item of items) {
      // Two answers per item: neither may be decoded into the item's one output array.
      expanded.push({ ...item, output: undefined });
      expanded.push({ ...item, output: undefined, conditioning: this.uncondFor(item.window) });
    }
    const outs = await run(expanded);
    return items.map((item, i) => {
      const cond = outs[2 * i]!;
      const uncond = outs[2 * i + 1]!;
      const mixed = item.output?.length === cond.length ? item.output : new Float32Array(cond.length);
      for (let j = 0; j < cond.length; j++) mixed[j] = uncond[j]! + this.scale * (cond[j]! - uncond[j]!);
      return mixed;
    });
  }

  /** The unconditional evaluation's conditioning of window `w` (two-batch guidance), formed once per window. */
  private uncondFor(w: Window): WindowConditioning {
    let c = this.uncond.get(w.index);
    if (!c) {
      const b = this.branch(w, true);
      this.uncond.set(w.index, (c = { cond: b.tensors, ...nonEmpty(b.prompts) }));
    }
    return c;
  }

  /**
   * A window's inputs of one branch; `uncond` gives the unconditional ones,
   * leaving out what the worker fills in itself (zeros for embeddings
   * without negatives and for image latents, time ids and class weights as
   * they are) when guidance runs in one batch.
   */
  private branch(w: Window, uncond: boolean): Branch {
    const tensors: Record<string, ConditioningTensor> = {};
    const prompts: Record<string, WeightedPrompt[]> = {};
    const oneBatch = this.m.guidance?.batching === 'one_batch';
    const classInput = this.m.inputs.classWeights;
    if (classInput && this.opts.classWeightsFor && (!uncond || !oneBatch)) tensors[classInput] = classWeightsTensor(this.opts.classWeightsFor(w));
    for (const c of this.conds) {
      const key = conditioningKey(c);
      if (c.source === 'time_ids') {
        if (!uncond || !oneBatch) tensors[key] = { data: this.timeIds.get(c.input)!, shape: [c.values.length] };
      } else if (c.source === 'embeddings') {
        const shape = conditioningShape(c);
        const from = uncond ? c.negativeFrom : c.from;
        const t = from ? this.tensors.get(from) : undefined;
        if (t) tensors[key] = { data: this.embeddingFor(from!, t, shape, w), shape };
        else if (c.textEncoder && (uncond || !this.tensors.has(c.from))) prompts[key] = this.promptsFor(w, uncond);
        else if (uncond && !oneBatch) tensors[key] = { data: this.zerosFor(key, shape), shape };
      } else if (!uncond) {
        const t = this.tensors.get(c.from) ?? this.inputImageFor(c.unscaled === true);
        if (t) tensors[key] = { data: crop(t, w), shape: [c.channels, w.height, w.width] };
      }
    }
    return { tensors, prompts };
  }

  /**
   * Prompts for a text encoder on the workers: the window's segment prompts
   * with their frame shares, or the negative prompt ('' when unset, as
   * CLIP-conditioned pipelines use) for uncond.
   */
  private promptsFor(w: Window, uncond: boolean): WeightedPrompt[] {
    if (uncond) return [{ text: this.opts.negativePrompt ?? '', weight: 1 }];
    const prompts = this.opts.prompts ?? [''];
    const weights = segmentWeights(this.opts.segmentStarts, w.f0, w.frames, this.m.vaeScale.temporal);
    return prompts.map((text, i) => ({ text, weight: weights[i] ?? 0 })).filter((p) => p.weight > 0);
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

/** `{ prompts }` when there are any, else nothing (an item without prompts carries no empty map). */
function nonEmpty(prompts: NamedPrompts): { prompts?: NamedPrompts } {
  return Object.keys(prompts).length > 0 ? { prompts } : {};
}
