import type { DenoiseFn } from '../sampling/sequential.ts';
import { wholePrediction, type PredictionObserver } from '../sampling/prediction-frames.ts';

/**
 * `denoise` that also shows each necessary prediction to `observer`: every
 * step of the sequential engine, and the converged point of each Picard
 * round (its speculative points may be thrown away, so they are not shown).
 * The engines need no hook of their own this way; the observer runs after
 * the evaluation and before the engine uses (and recycles) the arrays.
 */
export function observedDenoise(denoise: DenoiseFn, dims: { frames: number; height: number; width: number }, observer: PredictionObserver): DenoiseFn {
  const plane = dims.height * dims.width;
  return async (sample, step, signal, hints) => {
    const out = await denoise(sample, step, signal, hints);
    if (!hints?.speculative) observer(step, wholePrediction(out.x0, dims.frames, plane));
    return out;
  };
}
