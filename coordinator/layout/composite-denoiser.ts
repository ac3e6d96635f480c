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
import { epsFromX0, x0Coefficients, type PredictionType } from '../sampling/prediction.ts';
import type { Scheduler } from '../sampling/scheduler.ts';
import type { DenoiseFn, DenoiseHints } from '../sampling/sequential.ts';
import { WholeWindow } from './whole-window.ts';
import { WindowSlots } from './window-slots.ts';
import { blendProfiles, type BlendKind, type BlendProfile } from './blend.ts';
import { LayoutError } from './errors.ts';
import { Merger, checkWindowInside, extractWindow, windowLength } from './merge.ts';
import type { LatentDims, Window } from './types.ts';
import type { EvaluateWindows, StepInputs, WindowConditioning, WindowWork } from './window-work.ts';

export type { EvaluateWindows, StepInputs, WindowConditioning, WindowWork } from './window-work.ts';

/** Options of {@link CompositeDenoiser}. */
export interface CompositeDenoiserOptions {
  dims: LatentDims;
  windows: readonly Window[];
  blend: BlendKind;
  predictionType: PredictionType;
  /** Conditioning of each window (coordinator/conditioning); called once per window at construction. None: unconditioned items. */
  conditioningFor?: (w: Window) => WindowConditioning | undefined;
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
  private readonly conditioning: readonly (WindowConditioning | undefined)[];
  private readonly predictionType: PredictionType;
  private readonly evaluate: EvaluateWindows;
  readonly scheduler: Scheduler;
  readonly windowsPerCall: number;
  readonly callsInFlight: number;
  /** The job's windows out at once, shared by its concurrent denoise calls (a Picard round's points). */
  readonly slots: WindowSlots;
  /** One window covering the whole latent (a job of the model's native size): nothing to cut out or merge. */
  private readonly single: WholeWindow | undefined;

  constructor(opts: CompositeDenoiserOptions) {
    if (opts.windows.length === 0) throw new LayoutError('windows', 'a composite denoiser needs at least one window');
    for (const w of opts.windows) checkWindowInside(opts.dims, w);
    this.dims = opts.dims;
    this.windows = opts.windows;
    this.profiles = blendProfiles(opts.windows, opts.dims, opts.blend);
    this.conditioning = opts.windows.map((w) => opts.conditioningFor?.(w));
    this.predictionType = opts.predictionType;
    this.evaluate = opts.evaluate;
    this.scheduler = opts.scheduler;
    this.windowsPerCall = positiveInt('windowsPerCall', opts.windowsPerCall ?? DEFAULT_WINDOWS_PER_CALL);
    this.callsInFlight = positiveInt('callsInFlight', opts.callsInFlight ?? DEFAULT_CALLS_IN_FLIGHT);
    this.slots = new WindowSlots(Math.max(this.windowsPerCall, positiveInt('windowsInFlight', opts.windowsInFlight ?? this.windowsPerCall * this.callsInFlight)));
    const w = opts.windows[0]!;
    const { dims } = opts;
    const whole = opts.windows.length === 1 && w.f0 === 0 && w.y0 === 0 && w.x0 === 0 && w.frames === dims.frames && w.height === dims.height && w.width === dims.width;
    this.single = whole ? new WholeWindow(w, dims.channels * dims.frames * dims.height * dims.width, this.conditioning[0], opts.evaluate) : undefined;
  }

  /** x0Hat and epsHat of the global `sample` at step `step` (arrow property: pass it as a DenoiseFn). */
  readonly denoise: DenoiseFn = async (sample, step, signal, hints) => {
    const { dims, windows } = this;
    this.checkSample(sample);
    signal?.throwIfAborted();
    const inputs = this.stepInputs(step);
    if (this.single) return this.single.denoise(sample, inputs, signal, hints);
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
   * caller no longer reads (nor keeps), for a whole-window layout to reuse
   * (whole-window.ts); other layouts ignore them.
   */
  readonly recycle = (arrays: readonly Float32Array[]): void => {
    this.single?.recycle(arrays);
  };

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
    const items: WindowWork[] = [];
    for (let i = first; i < first + count; i++) {
      const w = windows[i]!;
      const window = extractWindow(sample, dims, w);
      if (inputs.scale !== 1) for (let k = 0; k < window.length; k++) window[k]! *= inputs.scale;
      items.push({ window: w, sample: window, timestep: inputs.timestep, conditioning: this.conditioning[i] });
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


/** Some consecutive windows of one step with their model outputs. */
export interface WindowGroup {
  items: WindowWork[];
  outputs: Float32Array[];
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new LayoutError(field, `${field} must be a positive integer, got ${v}`);
  return v;
}
