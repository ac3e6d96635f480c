/**
 * How an engine shows its x0 prediction to an observer (live previews,
 * coordinator/previews): a reader of frame ranges rather than the array, so
 * an engine that never holds the prediction whole (the pipelined one) can
 * offer it too, and the observer copies only the frames it needs.
 */

/**
 * Reads frames `[f0, f1)` of one channel of a step's x0 prediction into
 * `out` (`(f1 - f0) * height * width` values, frame-major). Valid only
 * during the observer's call: the engine reuses its buffers afterwards.
 */
export type PredictionFrames = (channel: number, f0: number, f1: number, out: Float32Array) => void;

/**
 * Called with the x0 prediction of step `step` (0-based) once the engine has
 * it. Must return quickly and copy what it keeps: it runs on the engine's
 * path (a preview throttles itself and does its work later).
 */
export type PredictionObserver = (step: number, x0: PredictionFrames) => void;

/** A reader over a whole `[C, F, H, W]` prediction. */
export function wholePrediction(x0: Float32Array, frames: number, plane: number): PredictionFrames {
  return (channel, f0, f1, out) => out.set(x0.subarray((channel * frames + f0) * plane, (channel * frames + f1) * plane));
}
