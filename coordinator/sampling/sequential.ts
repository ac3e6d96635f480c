/**
 * The sequential sampling engine: one model evaluation per step, in order.
 * It is the reference the Picard engine must reproduce bit for bit at p = 1,
 * so the step is written exactly as the {@link Scheduler} contract states:
 *
 *   x_{i+1} = stepDeterministic(i, x_i, x0Hat_i, epsHat_i) + c_i z_i
 *
 * with `c_i z_i` added by {@link addScaledNoise} (skipped when c_i = 0).
 */
import { addScaledNoise, type Scheduler } from './scheduler.ts';
import type { StepNoiseFn } from './step-noise.ts';

export { stepNoise, type StepNoiseFn } from './step-noise.ts';

/**
 * The denoiser seen by the engines: `(x0Hat, epsHat)` for the sample at
 * step `step`. A plain model wrapper or the composite (windowed) denoiser.
 * It must not keep a reference to `sample`: the engine reuses the buffer.
 */
export type DenoiseFn = (
  sample: Float32Array,
  step: number,
  signal?: AbortSignal,
  hints?: DenoiseHints,
) => Promise<{ x0: Float32Array; eps: Float32Array }>;

/** How a denoise call's evaluations may be scheduled; never changes its numbers. */
export interface DenoiseHints {
  /**
   * A Picard point past the window's converged one: work that may be thrown
   * away, which a shared cluster runs after every job's necessary work.
   */
  speculative?: boolean;
}

/** Options of {@link sampleSequential}. */
export interface SequentialOptions {
  scheduler: Scheduler;
  denoise: DenoiseFn;
  /** x at step 0, already scaled by `scheduler.initNoiseSigma`; not modified unless `consumeInitial`. */
  initial: Float32Array;
  /** Use `initial` as the working buffer instead of copying it (saves a latent on long videos). */
  consumeInitial?: boolean;
  /** Fills z_i; called only for steps with `noiseCoefficient(i) !== 0`. */
  noise: StepNoiseFn;
  /** Called after each step with the number of completed steps and the total. */
  onStep?: (step: number, total: number) => void;
  /** Aborts between steps and is passed to `denoise`. */
  signal?: AbortSignal;
  /** Continue from a state exported by `onCheckpoint` (same scheduler, seed and latent) instead of `initial`. */
  resume?: SequentialState;
  /**
   * Called after every step with the engine's state. `state.sample` is the
   * engine's working buffer: valid during the call only (copy it, e.g. with
   * `encodeSamplerCheckpoint`).
   */
  onCheckpoint?: (state: SequentialState) => void;
  /** Given the x0 and eps arrays of each step once the engine is done with them (e.g. `CompositeDenoiser.recycle`). */
  recycle?: (arrays: Float32Array[]) => void;
}

/**
 * Everything the sequential engine needs to go on after step `step`: the
 * sample `x_step`. The step noise has no state to keep: `z_i` is drawn from
 * its own stream per step (`step-noise.ts`), so the step index is the RNG state.
 */
export interface SequentialState {
  /** Completed steps, in `[0, numSteps]`. */
  step: number;
  sample: Float32Array;
}

/**
 * The working buffer holding x at the first step to run (`resume.step`, or
 * 0): `initial` itself when `consumeInitial`, else a copy; throws a
 * RangeError when `resume` does not fit `total` steps and the latent.
 */
export function startingSample(opts: Pick<SequentialOptions, 'initial' | 'consumeInitial' | 'resume'>, total: number): Float32Array {
  const { initial, resume } = opts;
  const n = initial.length;
  if (resume && (!Number.isInteger(resume.step) || resume.step < 0 || resume.step > total || resume.sample.length !== n)) {
    throw new RangeError(`cannot resume at step ${resume.step} of ${total} with ${resume.sample.length} elements (expected ${n})`);
  }
  const x = opts.consumeInitial ? initial : new Float32Array(n);
  if (resume) x.set(resume.sample);
  else if (x !== initial) x.set(initial);
  return x;
}

/**
 * Runs all `scheduler.numSteps` steps from `initial` and returns the final
 * sample (a new array). Rejects with the signal's reason when aborted.
 */
export async function sampleSequential(opts: SequentialOptions): Promise<Float32Array> {
  const { scheduler, denoise, noise, onStep, signal, resume } = opts;
  const n = opts.initial.length;
  const total = scheduler.numSteps;
  // Two ping-pong buffers: the coordinator holds at most two copies of the latent.
  let x = startingSample(opts, total);
  let next: Float32Array = new Float32Array(n);
  let z: Float32Array | undefined;
  for (let i = resume?.step ?? 0; i < total; i++) {
    signal?.throwIfAborted();
    const { x0, eps } = await denoise(x, i, signal);
    if (x0.length !== n || eps.length !== n) {
      throw new RangeError(`denoise at step ${i} returned x0 (${x0.length}) / eps (${eps.length}), expected ${n}`);
    }
    scheduler.stepDeterministic(i, x, x0, eps, next);
    opts.recycle?.([x0, eps]);
    const c = scheduler.noiseCoefficient(i);
    if (c !== 0) {
      z ??= new Float32Array(n);
      noise(i, z);
      addScaledNoise(next, c, z);
    }
    [x, next] = [next, x];
    opts.onCheckpoint?.({ step: i + 1, sample: x });
    onStep?.(i + 1, total);
  }
  return x;
}
