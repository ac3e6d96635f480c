/**
 * Per-step noise `z_i` of stochastic schedulers.
 *
 * Each step draws from its own stream `Rng(seed, 1000 + i)`, so `z_i` depends
 * only on the seed and the step index, never on how many draws came before.
 * The Picard engine, which evaluates steps out of order and re-evaluates
 * them, pre-draws exactly the noise the sequential engine draws.
 */
import { Rng } from '../../common/rng.ts';
import type { Seed } from '../../common/seed.ts';

/** Fills `out` with the standard-normal noise of step `step`. */
export type StepNoiseFn = (step: number, out: Float32Array) => void;

/** First Rng stream id of step noise; streams below it are free for initial noise and layouts. */
export const STEP_NOISE_STREAM_BASE = 1000;

/** Deterministic step noise for `seed`: `z_i = new Rng(seed, 1000 + i).fillNormal(out)`. */
export function stepNoise(seed: Seed): StepNoiseFn {
  return (step, out) => {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be an integer >= 0, got ${step}`);
    new Rng(seed, STEP_NOISE_STREAM_BASE + step).fillNormal(out);
  };
}
