/**
 * The composite denoiser: the model applied to a latent larger than its
 * native window, for one timestep.
 *
 * 1. cut the windows out of the global sample, a group at a time;
 * 2. evaluate each group of up to `windowsPerCall` windows in one `evaluate`
 *    call (a dispatcher spreads them over workers), `callsInFlight` groups
 *    at once so the workers never wait for the merge; a latent of up to
 *    `windowsPerCall` windows is one call, and the Picard engine's p
 *    concurrent steps become p such streams of calls;
 * 3. convert each window's raw output to x0Hat at the step's noise level;
 * 4. merge the x0Hat with the blend weights, group by group in plan order
 *    (so the float64 sums, and the result, do not depend on which call
 *    finishes first);
 * 5. return global x0Hat and `epsHat = (x - alpha x0Hat) / sigma`.
 *
 * Merging x0 (not the raw outputs or eps) keeps the merge meaningful for every
 * prediction type, and the scheduler then steps the whole latent once, with
 * stochastic noise drawn once, globally. A single window covering the whole
 * latent has weight 1 everywhere, so x0Hat is that window's x0Hat exactly.
 *
 * Each `denoise` call allocates its own merger, so concurrent calls (one per
 * Picard step) are safe. Memory per call: the merger's two float64
 * accumulators (2.25 latents), the returned x0 and eps (2 latents), and the
 * inputs and outputs of at most `callsInFlight + 1` groups of windows —
 * bounded by `windowsPerCall`, not by the latent, whose windows together hold
 * the latent times the overlap factor (about 8x with the default overlaps).
 */
import { takeOver, uninitializedFloat32Array } from '../../common/float-buffers.ts';
import { epsFromX0, x0Coefficients, type NoiseLevel, type PredictionType } from '../sampling/prediction.ts';
import type { Scheduler } from '../sampling/scheduler.ts';
import type { DenoiseFn, DenoiseHints } from '../sampling/sequential.ts';
import { WindowSlots } from './window-slots.ts';
import { blendProfiles, type BlendKind, type BlendProfile } from './blend.ts';
import { LayoutError } from './errors.ts';
import { Merger, checkWindowInside, extractWindow, windowLength, type AffineX0 } from './merge.ts';
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
  /**
   * An array of the sample's size the raw output may be written into (the
   * pool's EvalItem.output): the evaluator may return it filled, or any
   * other array.
   */
  output?: Float32Array;
}

/** Spare latents a whole-window denoiser keeps for outputs, eps and scaled inputs: two per point of the largest window, and a few. */
const MAX_SPARE = 2 * 64 + 4;

/**
 * Evaluates the model on a batch of windows; resolves with the raw model
 * outputs (in the model's prediction type), aligned with `items`, each the
 * size of its item's sample.
 */
export type EvaluateWindows = (items: WindowItem[], signal?: AbortSignal, hints?: DenoiseHints) => Promise<Float32Array[]>;

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
  /** Most windows per `evaluate` call; default {@link DEFAULT_WINDOWS_PER_CALL}. */
  windowsPerCall?: number;
  /** `evaluate` calls in flight per `denoise` call; default {@link DEFAULT_CALLS_IN_FLIGHT}. */
  callsInFlight?: number;
  /**
   * Windows out at once (cut, on the wire or on a GPU, not yet merged) over
   * all concurrent `denoise` calls; default `windowsPerCall x callsInFlight`.
   */
  windowsInFlight?: number;
}

/**
 * Default windows per evaluate call: 32 native field-mixture windows are
 * 8 MiB of float32 input. Small calls let the merge follow the results
 * group by group instead of waiting for a large call's slowest batch; the
 * dispatcher sizes its micro-batches from all calls in flight, so small
 * calls do not mean small batches.
 */
export const DEFAULT_WINDOWS_PER_CALL = 32;

/**
 * Default evaluate calls in flight per denoise call (launched and not yet
 * merged): 8 x 32 = 256 windows, a whole round of a 192-frame 256x256 video
 * (207 windows) at once, so the dispatcher sees the round's whole backlog
 * and gives every worker of a large cluster one even batch. Groups are
 * merged in plan order, so a slow oldest group holds back new launches once
 * the bound is reached; a long latent streams through in slices of at most
 * this many windows (64 MiB of float32 input for native 4x16x32x32 windows).
 */
export const DEFAULT_CALLS_IN_FLIGHT = 8;

/** Windowed denoiser over a `[C, F, H, W]` latent; `denoise` is a {@link DenoiseFn}. */
export class CompositeDenoiser {
  readonly dims: LatentDims;
  readonly windows: readonly Window[];
  private readonly profiles: readonly BlendProfile[];
  private readonly conditioning: readonly Float32Array[];
  private readonly predictionType: PredictionType;
  private readonly evaluate: EvaluateWindows;
  readonly scheduler: Scheduler;
  readonly windowsPerCall: number;
  readonly callsInFlight: number;
  /** The job's windows out at once, shared by its concurrent denoise calls (a Picard round's points). */
  readonly slots: WindowSlots;
  /** One window covering the whole latent (a job of the model's native size): nothing to cut out or merge. */
  private readonly whole: boolean;
  /** Latent-sized arrays given back by the engine ({@link recycle}), reused by whole-window calls. */
  private readonly spare: Float32Array[] = [];

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
    this.windowsPerCall = positiveInt('windowsPerCall', opts.windowsPerCall ?? DEFAULT_WINDOWS_PER_CALL);
    this.callsInFlight = positiveInt('callsInFlight', opts.callsInFlight ?? DEFAULT_CALLS_IN_FLIGHT);
    this.slots = new WindowSlots(Math.max(this.windowsPerCall, positiveInt('windowsInFlight', opts.windowsInFlight ?? this.windowsPerCall * this.callsInFlight)));
    const w = opts.windows[0]!;
    const { dims } = opts;
    this.whole = opts.windows.length === 1 && w.f0 === 0 && w.y0 === 0 && w.x0 === 0 && w.frames === dims.frames && w.height === dims.height && w.width === dims.width;
  }

  /** x0Hat and epsHat of the global `sample` at step `step` (arrow property: pass it as a DenoiseFn). */
  readonly denoise: DenoiseFn = async (sample, step, signal, hints) => {
    const { dims, windows } = this;
    this.checkSample(sample);
    signal?.throwIfAborted();
    const inputs = this.stepInputs(step);
    if (this.whole) return this.denoiseWhole(sample, inputs, signal, hints);
    const merger = new Merger(dims, windows, this.profiles);
    // Groups in plan order; up to `callsInFlight` evaluating while the oldest
    // is merged, within the job's window slots (shared with the other points
    // of a Picard round: with none out, this call waits its turn for some).
    const pending: { group: Promise<WindowGroup>; count: number }[] = [];
    let next = 0;
    const size = () => Math.min(this.windowsPerCall, windows.length - next);
    const launch = (count: number): void => {
      const group = this.evaluateGroup(sample, next, count, inputs, signal, hints);
      group.catch(() => undefined); // rejections surface when the group is awaited
      pending.push({ group, count });
      next += count;
    };
    const launchFree = (): void => {
      while (next < windows.length && pending.length < this.callsInFlight && this.slots.tryAcquire(size())) launch(size());
    };
    try {
      while (next < windows.length || pending.length > 0) {
        launchFree();
        if (pending.length === 0) {
          const count = size();
          await this.slots.acquire(count, signal);
          launch(count);
          continue;
        }
        const oldest = pending[0]!;
        const group = await oldest.group;
        pending.shift();
        this.slots.release(oldest.count);
        // The next groups go out before this one is merged (the GPUs wait less).
        launchFree();
        this.mergeGroup(merger, group, inputs);
      }
    } finally {
      // A failed or canceled call gives back what it still held.
      for (const p of pending) this.slots.release(p.count);
    }
    const x0 = merger.result();
    return { x0, eps: epsFromX0(sample, x0, inputs.level) };
  };

  /**
   * Takes back x0 and eps arrays of earlier {@link denoise} calls that the
   * caller no longer reads (nor keeps): a whole-window denoiser decodes the
   * next outputs into them and writes the next eps there, instead of two
   * fresh latents per evaluation (the garbage of a Picard round of 16
   * points was most of the collector's work). Other arrays, and any array
   * already given back, are ignored.
   */
  readonly recycle = (arrays: readonly Float32Array[]): void => {
    if (!this.whole) return;
    const n = this.windows[0]!.frames * this.windows[0]!.height * this.windows[0]!.width * this.dims.channels;
    for (const a of arrays) {
      if (this.spare.length >= MAX_SPARE) return;
      if (a.length === n && !this.spare.includes(a)) this.spare.push(a);
    }
  };

  /**
   * {@link denoise} for a layout of one window covering the latent. The
   * window's input is `sample` itself (`sample` may not change during the
   * call, as for every DenoiseFn; a copy when the model input is scaled),
   * and x0Hat and epsHat come out of one pass over the output. The numbers
   * are those of the merge, bit for bit: the merge adds `wt * x0` to a zero
   * float64 sum and divides by `wt`, which gives back the float32 `x0`
   * exactly (two float64 roundings stay far inside half a float32 ulp), and
   * turns -0 into +0 (`0 + -0`), as `+ 0` does here.
   */
  private async denoiseWhole(sample: Float32Array, inputs: StepInputs, signal?: AbortSignal, hints?: DenoiseHints): Promise<{ x0: Float32Array; eps: Float32Array }> {
    const window = this.windows[0]!;
    const n = sample.length;
    let input = sample;
    if (inputs.scale !== 1) {
      input = this.spare.pop() ?? uninitializedFloat32Array(n);
      for (let k = 0; k < n; k++) input[k] = sample[k]! * inputs.scale;
    }
    const spareOutput = this.spare.pop();
    const item: WindowItem = { window, sample: input, timestep: inputs.timestep, conditioning: this.conditioning[0]!, output: spareOutput };
    let outputs: Float32Array[];
    try {
      outputs = await this.evaluate([item], signal, hints);
    } catch (err) {
      // Nothing reads them now; a copy still in flight decodes into fresh arrays (the request is over).
      if (spareOutput) this.recycle([spareOutput]);
      if (input !== sample) this.recycle([input]);
      throw err;
    }
    if (outputs.length !== 1) throw new LayoutError('evaluate', `evaluate returned ${outputs.length} outputs for 1 windows`);
    const output = outputs[0]!;
    if (output.length !== sample.length) {
      throw new LayoutError('evaluate', `output for window ${window.index} has ${output.length} elements, needs ${sample.length}`);
    }
    const { p, q, d } = inputs.coefficients;
    const { alpha: a, sigma: s } = inputs.level;
    // x0 goes over the raw output when that is ours to overwrite (our spare
    // array the dispatcher decoded into, or a worker output it decoded and
    // handed over, see float-buffers.ts): one latent less to allocate and
    // fill per evaluation. Element k of the output is read before x0[k] is
    // written, so in place gives the same numbers.
    const ours = spareOutput !== undefined && output === spareOutput;
    if (spareOutput && !ours) this.recycle([spareOutput]);
    const x0 = ours || (output !== input && output !== sample && takeOver(output)) ? output : uninitializedFloat32Array(n);
    const eps = this.spare.pop() ?? uninitializedFloat32Array(n);
    if (input === sample) {
      // The model saw the sample itself: one load per element for both formulas.
      for (let k = 0; k < n; k++) {
        const x = sample[k]!;
        const v = Math.fround((p * x - q * output[k]!) / d) + 0;
        x0[k] = v;
        eps[k] = (x - a * v) / s;
      }
    } else {
      for (let k = 0; k < n; k++) {
        const v = Math.fround((p * input[k]! - q * output[k]!) / d) + 0;
        x0[k] = v;
        // epsFromX0, on the stored float32 x0
        eps[k] = (sample[k]! - a * v) / s;
      }
      // The scaled input is read by no one now (the evaluation is over).
      if (input !== x0 && input !== output) this.recycle([input]);
    }
    return { x0, eps };
  }

  /** Throws a LayoutError unless `sample` has the latent's size. */
  checkSample(sample: Float32Array): void {
    const { dims } = this;
    const total = dims.channels * dims.frames * dims.height * dims.width;
    if (sample.length !== total) {
      throw new LayoutError('sample', `sample has ${sample.length} elements, latent has ${total}`);
    }
  }

  /** What every window of step `step` shares: noise level, model timestep and input scale, x0 coefficients. */
  stepInputs(step: number): StepInputs {
    const level = this.scheduler.noiseLevel(step);
    const timestep = this.scheduler.timesteps[step]!;
    // The model sees `scale * x` (scale_model_input), a sample at the scaled
    // noise level; x0 and eps are the same either way.
    const scale = this.scheduler.modelInputScale(step);
    const inputLevel = scale === 1 ? level : { alpha: level.alpha * scale, sigma: level.sigma * scale };
    // x0 of each window at the input's noise level, converted inside the merge.
    return { level, timestep, scale, coefficients: x0Coefficients(this.predictionType, inputLevel) };
  }

  /**
   * Cuts windows `first .. first + count - 1` out of `sample` (scaled for
   * the model) and evaluates them in one `evaluate` call.
   */
  async evaluateGroup(sample: Float32Array, first: number, count: number, inputs: StepInputs, signal?: AbortSignal, hints?: DenoiseHints): Promise<WindowGroup> {
    const { dims, windows } = this;
    const items: WindowItem[] = [];
    for (let i = first; i < first + count; i++) {
      const w = windows[i]!;
      const window = extractWindow(sample, dims, w);
      if (inputs.scale !== 1) for (let k = 0; k < window.length; k++) window[k]! *= inputs.scale;
      items.push({ window: w, sample: window, timestep: inputs.timestep, conditioning: this.conditioning[i]! });
    }
    const outputs = await this.evaluate(items, signal, hints);
    if (outputs.length !== items.length) {
      throw new LayoutError('evaluate', `evaluate returned ${outputs.length} outputs for ${items.length} windows`);
    }
    return { items, outputs };
  }

  /** Adds a group's x0 to `merger`, window by window in plan order. */
  mergeGroup(merger: Merger, group: WindowGroup, inputs: StepInputs): void {
    group.items.forEach((item, j) => {
      const len = windowLength(this.dims, item.window);
      const output = group.outputs[j]!;
      if (output.length !== len) {
        throw new LayoutError('evaluate', `output for window ${item.window.index} has ${output.length} elements, needs ${len}`);
      }
      merger.accumulateAffine(item.window, output, item.sample, inputs.coefficients);
    });
  }

  /** A new merger over this denoiser's windows and blend. */
  newMerger(): Merger {
    return new Merger(this.dims, this.windows, this.profiles);
  }
}

/** What the windows of one step share (see {@link CompositeDenoiser.stepInputs}). */
export interface StepInputs {
  level: NoiseLevel;
  timestep: number;
  scale: number;
  coefficients: AffineX0;
}

/** Some consecutive windows of one step with their model outputs. */
export interface WindowGroup {
  items: WindowItem[];
  outputs: Float32Array[];
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new LayoutError(field, `${field} must be a positive integer, got ${v}`);
  return v;
}
