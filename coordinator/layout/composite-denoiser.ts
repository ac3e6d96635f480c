/**
 * The composite denoiser: the model applied to a latent larger than its
 * native window, for one timestep.
 *
 * 1. cut every window out of the global sample;
 * 2. evaluate all windows in ONE `evaluate` call (a dispatcher spreads them
 *    over workers; the Picard engine's p concurrent steps become p calls);
 * 3. convert each window's raw output to x0Hat at the step's noise level;
 * 4. merge the x0Hat with the blend weights;
 * 5. return global x0Hat and `epsHat = (x - alpha x0Hat) / sigma`.
 *
 * Merging x0 (not the raw outputs or eps) keeps the merge meaningful for every
 * prediction type, and the scheduler then steps the whole latent once, with
 * stochastic noise drawn once, globally. A single window covering the whole
 * latent has weight 1 everywhere, so x0Hat is that window's x0Hat exactly.
 *
 * Each `denoise` call allocates its own merger, so concurrent calls (one per
 * Picard step) are safe. Memory per call: the window inputs handed to
 * `evaluate` (about the latent times the overlap factor, unavoidable for a
 * single batched call), the merger's two accumulators, one scratch window,
 * and the returned x0 and eps.
 */
import { epsFromX0, toX0, type PredictionType } from '../sampling/prediction.ts';
import type { Scheduler } from '../sampling/scheduler.ts';
import type { DenoiseFn } from '../sampling/sequential.ts';
import { blendProfiles, type BlendKind, type BlendProfile } from './blend.ts';
import { LayoutError } from './errors.ts';
import { Merger, checkWindowInside, extractWindow, windowLength } from './merge.ts';
import type { LatentDims, Window } from './types.ts';

/** A window with its input. */
export interface WindowEvaluation {
  window: Window;
  /** Window sample `[C, frames, height, width]`. */
  sample: Float32Array;
  /** Per-window conditioning vector (e.g. prompt-schedule class weights). */
  conditioning: Float32Array;
}

/** One model input of a composite evaluation: a window, its input and the model timestep. */
export interface WindowItem extends WindowEvaluation {
  timestep: number;
}

/**
 * Evaluates the model on a batch of windows; resolves with the raw model
 * outputs (in the model's prediction type), aligned with `items`, each the
 * size of its item's sample.
 */
export type EvaluateWindows = (items: WindowItem[], signal?: AbortSignal) => Promise<Float32Array[]>;

/** Options of {@link CompositeDenoiser}. */
export interface CompositeDenoiserOptions {
  dims: LatentDims;
  windows: readonly Window[];
  blend: BlendKind;
  predictionType: PredictionType;
  /** Conditioning of each window; called once per window at construction. */
  conditioningFor: (w: Window) => Float32Array;
  evaluate: EvaluateWindows;
  scheduler: Scheduler;
}

/** Windowed denoiser over a `[C, F, H, W]` latent; `denoise` is a {@link DenoiseFn}. */
export class CompositeDenoiser {
  readonly dims: LatentDims;
  readonly windows: readonly Window[];
  private readonly profiles: readonly BlendProfile[];
  private readonly conditioning: readonly Float32Array[];
  private readonly predictionType: PredictionType;
  private readonly evaluate: EvaluateWindows;
  private readonly scheduler: Scheduler;

  constructor(opts: CompositeDenoiserOptions) {
    if (opts.windows.length === 0) throw new LayoutError('windows', 'a composite denoiser needs at least one window');
    for (const w of opts.windows) checkWindowInside(opts.dims, w);
    this.dims = opts.dims;
    this.windows = opts.windows;
    this.profiles = blendProfiles(opts.windows, opts.dims, opts.blend);
    this.conditioning = opts.windows.map((w) => opts.conditioningFor(w));
    this.predictionType = opts.predictionType;
    this.evaluate = opts.evaluate;
    this.scheduler = opts.scheduler;
  }

  /** x0Hat and epsHat of the global `sample` at step `step` (arrow property: pass it as a DenoiseFn). */
  readonly denoise: DenoiseFn = async (sample, step, signal) => {
    const { dims, windows } = this;
    const total = dims.channels * dims.frames * dims.height * dims.width;
    if (sample.length !== total) {
      throw new LayoutError('sample', `sample has ${sample.length} elements, latent has ${total}`);
    }
    signal?.throwIfAborted();
    const level = this.scheduler.noiseLevel(step);
    const timestep = this.scheduler.timesteps[step]!;
    // The model sees `scale * x` (scale_model_input), a sample at the scaled
    // noise level; x0 and eps are the same either way.
    const scale = this.scheduler.modelInputScale(step);
    const inputLevel = scale === 1 ? level : { alpha: level.alpha * scale, sigma: level.sigma * scale };
    const items: WindowItem[] = windows.map((w, i) => {
      const window = extractWindow(sample, dims, w);
      if (scale !== 1) for (let k = 0; k < window.length; k++) window[k]! *= scale;
      return { window: w, sample: window, timestep, conditioning: this.conditioning[i]! };
    });
    const outputs = await this.evaluate(items, signal);
    if (outputs.length !== windows.length) {
      throw new LayoutError('evaluate', `evaluate returned ${outputs.length} outputs for ${windows.length} windows`);
    }
    const merger = new Merger(dims, windows, this.profiles);
    let scratch = new Float32Array(0);
    windows.forEach((w, i) => {
      const len = windowLength(dims, w);
      const output = outputs[i]!;
      if (output.length !== len) {
        throw new LayoutError('evaluate', `output ${i} has ${output.length} elements, window ${w.index} needs ${len}`);
      }
      if (scratch.length !== len) scratch = new Float32Array(len);
      merger.accumulate(w, toX0(this.predictionType, output, items[i]!.sample, inputLevel, scratch));
    });
    const x0 = merger.result();
    return { x0, eps: epsFromX0(sample, x0, level) };
  };
}
