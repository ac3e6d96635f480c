/**
 * The sequential engine over a composite (windowed) latent, without a
 * barrier between steps.
 *
 * `sampleSequential` with `CompositeDenoiser.denoise` waits for every window
 * of step i before it steps, and only then cuts step i + 1's windows: each
 * step ends with every GPU idle while the last replies are merged, the latent
 * is stepped and the next windows are cut, encoded and sent. But the
 * dependencies are local. The scheduler step is element by element, and a
 * latent element is final for step i once every window covering it has been
 * merged; windows are in plan order (chunk by chunk), so after the first k
 * windows are merged the frames before the first frame of window k onwards
 * are final. Those frames are stepped at once, and step i + 1's windows that
 * lie inside them go out while step i's later windows are still on the GPUs.
 *
 * The numbers are those of `sampleSequential` with the composite denoiser,
 * bit for bit: each step's windows are merged in plan order into float64
 * sums (the merge order is the same), x0 = sum / weight, eps and the step
 * are the same element-wise formulas (the same scheduler calls, on frame
 * ranges), and the step noise z_i is drawn whole, as there.
 *
 * At most two steps are open at once (step i finishing, step i + 1
 * starting), so memory is three latents, two mergers and the step noise, and
 * at most `windowsPerCall * callsInFlight` windows are out at a time.
 */
import { epsFromX0 } from './prediction.ts';
import { addScaledNoise, type Scheduler } from './scheduler.ts';
import { startingSample, type SequentialOptions } from './sequential.ts';
import type { CompositeDenoiser, StepInputs, WindowGroup } from '../layout/composite-denoiser.ts';
import type { Merger } from '../layout/merge.ts';
import type { PredictionObserver } from './prediction-frames.ts';

/** Options of {@link samplePipelined}: `SequentialOptions` with the composite denoiser in place of `scheduler` and `denoise`. */
export type PipelinedOptions = Omit<SequentialOptions, 'scheduler' | 'denoise'> & {
  composite: CompositeDenoiser;
  /** Shown each step's x0 prediction as the step completes (live previews); read from the step's merger. */
  onPrediction?: PredictionObserver;
};

/** One step being evaluated, merged and stepped. */
interface OpenStep {
  step: number;
  inputs: StepInputs;
  /** x_step (read) and x_{step+1} (written frame range by frame range). */
  x: Float32Array;
  out: Float32Array;
  merger: Merger;
  /** c_step and z_step, when the step adds noise. */
  c: number;
  z: Float32Array | undefined;
  /** Frames of x_step that are final (all of them for the first step). */
  ready: number;
  /** Windows launched, windows merged, frames stepped into `out`. */
  launched: number;
  merged: number;
  stepped: number;
  /** Launched groups in plan order; the head is merged when it has landed. */
  groups: { count: number; result?: WindowGroup }[];
}

/**
 * Runs all steps from `initial` (or `resume`) and resolves with the final
 * sample. Rejects with the first evaluation error, or the signal's reason.
 */
export function samplePipelined(opts: PipelinedOptions): Promise<Float32Array> {
  const { composite, initial, noise, onStep, onCheckpoint, signal, resume } = opts;
  const scheduler: Scheduler = composite.scheduler;
  const { dims, windows } = composite;
  const total = scheduler.numSteps;
  const n = initial.length;
  let first: Float32Array;
  try {
    composite.checkSample(initial);
    first = startingSample(opts, total);
  } catch (err) {
    return Promise.reject(err);
  }
  const start = resume?.step ?? 0;
  if (start === total) return Promise.resolve(first);

  const F = dims.frames;
  const plane = dims.height * dims.width;
  const spatial = F * plane;
  // finalAfter[k]: frames final once windows 0..k-1 are merged (covered by none of k onwards).
  const finalAfter = new Int32Array(windows.length + 1);
  finalAfter[windows.length] = F;
  for (let k = windows.length - 1; k >= 0; k--) finalAfter[k] = Math.min(finalAfter[k + 1]!, windows[k]!.f0);
  const maxInFlight = composite.windowsPerCall * composite.callsInFlight;
  // x_s lives in buffers[s % 3]; two open steps use three buffers.
  const buffers = [first, new Float32Array(n), new Float32Array(n)];
  if (start % 3 !== 0) [buffers[0], buffers[start % 3]] = [buffers[start % 3]!, buffers[0]!];
  const mergers = [composite.newMerger(), composite.newMerger()];
  const noises: (Float32Array | undefined)[] = [undefined, undefined];
  // Scratch for one channel's frame range: x0 and eps.
  const x0 = new Float32Array(spatial);
  const eps = new Float32Array(spatial);

  return new Promise<Float32Array>((resolve, reject) => {
    const open: OpenStep[] = [];
    let nextStep = start;
    let inFlight = 0;
    let failed = false;

    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    /** Opens steps while fewer than two are open (a step's buffers are free once the step two before it is done). */
    const openSteps = (): void => {
      while (open.length < 2 && nextStep < total) {
        const step = nextStep++;
        const merger = mergers[step % 2]!;
        if (step >= start + 2) merger.reset();
        const c = scheduler.noiseCoefficient(step);
        let z: Float32Array | undefined;
        if (c !== 0) {
          z = noises[step % 2] ??= new Float32Array(n);
          noise(step, z);
        }
        const prev = open.at(-1);
        open.push({
          step,
          inputs: composite.stepInputs(step),
          x: buffers[step % 3]!,
          out: buffers[(step + 1) % 3]!,
          merger,
          c,
          z,
          ready: prev ? prev.stepped : F,
          launched: 0,
          merged: 0,
          stepped: 0,
          groups: [],
        });
      }
    };

    /** Launches every window whose input frames are final, older steps first, up to the in-flight bound. */
    const launch = (): void => {
      for (const s of open) {
        while (s.launched < windows.length && inFlight < maxInFlight) {
          let count = 0;
          const cap = Math.min(composite.windowsPerCall, maxInFlight - inFlight);
          while (count < cap && s.launched + count < windows.length) {
            const w = windows[s.launched + count]!;
            if (w.f0 + w.frames > s.ready) break;
            count++;
          }
          if (count === 0) break;
          const entry: OpenStep['groups'][number] = { count };
          s.groups.push(entry);
          const group = composite.evaluateGroup(s.x, s.launched, count, s.inputs, signal);
          s.launched += count;
          inFlight += count;
          group.then(
            (result) => {
              entry.result = result;
              if (!failed) progress();
            },
            fail,
          );
        }
      }
    };

    /** Steps frames [s.stepped, to) of x_s into x_{s+1}, channel by channel. */
    const stepFrames = (s: OpenStep, to: number): void => {
      const len = (to - s.stepped) * plane;
      const x0s = x0.subarray(0, len);
      const epss = eps.subarray(0, len);
      for (let ch = 0; ch < dims.channels; ch++) {
        const from = ch * spatial + s.stepped * plane;
        const xs = s.x.subarray(from, from + len);
        const outs = s.out.subarray(from, from + len);
        s.merger.resultFrames(ch, s.stepped, to, x0s);
        epsFromX0(xs, x0s, s.inputs.level, epss);
        scheduler.stepDeterministic(s.step, xs, x0s, epss, outs);
        if (s.z) addScaledNoise(outs, s.c, s.z.subarray(from, from + len));
      }
      s.stepped = to;
    };

    /** Merges landed groups in plan order, steps what became final, finishes steps, launches what became ready. */
    const progress = (): void => {
      try {
        for (let k = 0; k < open.length; k++) {
          const s = open[k]!;
          while (s.groups.length > 0 && s.groups[0]!.result) {
            const g = s.groups.shift()!;
            composite.mergeGroup(s.merger, g.result!, s.inputs);
            s.merged += g.count;
            inFlight -= g.count;
          }
          const final = finalAfter[s.merged]!;
          if (final > s.stepped) {
            stepFrames(s, final);
            const after = open[k + 1];
            if (after) after.ready = s.stepped;
          }
        }
        while (open.length > 0 && open[0]!.stepped === F) {
          const s = open.shift()!;
          // The step's merger keeps its sums until step + 2 opens (below): x0 is still there to read.
          opts.onPrediction?.(s.step, (ch, f0, f1, out) => void s.merger.resultFrames(ch, f0, f1, out));
          onCheckpoint?.({ step: s.step + 1, sample: s.out });
          onStep?.(s.step + 1, total);
          if (s.step + 1 === total) {
            signal?.removeEventListener('abort', onAbort);
            resolve(s.out);
            return;
          }
        }
        openSteps();
        // A step opened now starts from the frames its predecessor has stepped.
        for (let k = 1; k < open.length; k++) open[k]!.ready = open[k - 1]!.stepped;
        if (signal?.aborted) throw signal.reason;
        launch();
      } catch (err) {
        fail(err);
      }
    };

    openSteps();
    progress();
  });
}
