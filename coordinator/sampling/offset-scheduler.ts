/**
 * A scheduler that starts part-way through another one: the SDEdit start of
 * video_to_video.
 *
 * `offsetScheduler(inner, k)` is the inner schedule with its first `k` steps
 * dropped: step `i` of the offset scheduler is step `k + i` of the inner one
 * (timesteps, levels, model-input scales, noise coefficients, the step
 * itself), so it runs `inner.numSteps - k` steps and `noiseLevel(i)` is
 * `inner.noiseLevel(k + i)` for `i` in `[0, numSteps]`. Because it is just
 * another {@link Scheduler}, the sequential and Picard engines and the
 * composite denoiser run unchanged; the job's initial latent is the known
 * latent noised to `noiseLevel(0)`.
 *
 * Step noise: the engines draw `z_i` by the offset index, so an offset run
 * uses other noise streams than a full run; that is fine (the stream depends
 * only on the seed and the index, which keeps Picard equal to sequential).
 */
import { checkStepIndex, type Scheduler } from './scheduler.ts';
import type { NoiseLevel, PredictionType } from './prediction.ts';

/** The inner scheduler with its first `offset` steps skipped. */
export class OffsetScheduler<C extends object = object> implements Scheduler<C & { stepOffset: number }> {
  readonly kind: string;
  /** The inner config plus `stepOffset` (serialisable: rebuild the inner one, then wrap it). */
  readonly config: Readonly<C & { stepOffset: number }>;
  readonly predictionType: PredictionType;
  readonly timesteps: readonly number[];
  readonly numSteps: number;
  /**
   * The noise scale at the new start, `noiseLevel(0).sigma`: the initial
   * latent is `alpha_0 known + sigma_0 z`, so its noise part is
   * `initNoiseSigma * z` as the contract states.
   */
  readonly initNoiseSigma: number;

  constructor(
    readonly inner: Scheduler<C>,
    readonly offset: number,
  ) {
    // At least one step must remain: a run of zero steps is the known latent
    // itself, which the caller handles without a scheduler.
    if (!Number.isInteger(offset) || offset < 0 || offset >= inner.numSteps) {
      throw new RangeError(`step offset must be an integer in [0, ${inner.numSteps}), got ${offset}`);
    }
    this.kind = inner.kind;
    this.config = Object.freeze({ ...inner.config, stepOffset: offset });
    this.predictionType = inner.predictionType;
    this.timesteps = Object.freeze(inner.timesteps.slice(offset));
    this.numSteps = inner.numSteps - offset;
    this.initNoiseSigma = offset === 0 ? inner.initNoiseSigma : inner.noiseLevel(offset).sigma;
  }

  noiseLevel(i: number): NoiseLevel {
    checkStepIndex(i, this.numSteps + 1);
    return this.inner.noiseLevel(this.offset + i);
  }

  modelInputScale(i: number): number {
    checkStepIndex(i, this.numSteps);
    return this.inner.modelInputScale(this.offset + i);
  }

  stepDeterministic(i: number, sample: Float32Array, x0Hat: Float32Array, epsHat: Float32Array, out?: Float32Array): Float32Array {
    checkStepIndex(i, this.numSteps);
    return this.inner.stepDeterministic(this.offset + i, sample, x0Hat, epsHat, out);
  }

  noiseCoefficient(i: number): number {
    checkStepIndex(i, this.numSteps);
    return this.inner.noiseCoefficient(this.offset + i);
  }
}

/**
 * Steps skipped by an SDEdit start of `strength` over `numSteps` steps:
 * `round((1 - strength) * numSteps)`. `strength` 1 skips nothing (pure noise),
 * 0 skips everything (the input comes back unchanged).
 */
export function skippedSteps(strength: number, numSteps: number): number {
  if (!Number.isFinite(strength) || strength < 0 || strength > 1) throw new RangeError(`strength must be in [0, 1], got ${strength}`);
  return Math.round((1 - strength) * numSteps);
}

/** `inner` itself when `offset` is 0, else an {@link OffsetScheduler}. */
export function offsetScheduler(inner: Scheduler, offset: number): Scheduler {
  return offset === 0 ? inner : new OffsetScheduler(inner, offset);
}
