import { InvalidArgumentError, quoteBounded } from '../../common/errors.ts';

/** Words a prompt may contain besides class names; they carry no meaning for class-conditioned models. */
const FILLER = new Set(['a', 'an', 'the', 'of', 'and', 'with', 'in', 'on', 'over', 'under', 'at', 'by', 'to', 'some', 'video']);

/**
 * Turns a prompt into class weights for a class-conditioned model: every
 * class name mentioned gets an equal share; an empty prompt is
 * unconditional (uniform). Unknown words are an error listing the known ones.
 */
export function promptToClassWeights(prompt: string, classes: readonly string[], field: string): Float32Array {
  const k = classes.length;
  const weights = new Float32Array(k);
  const words = prompt
    .toLowerCase()
    .split(/[^a-z0-9_-]+/)
    .filter((w) => w.length > 0 && !FILLER.has(w));
  if (words.length === 0) return weights.fill(1 / k);
  for (const word of words) {
    const idx = classes.indexOf(word) >= 0 ? classes.indexOf(word) : classes.indexOf(word.replace(/s$/, ''));
    if (idx < 0) throw new InvalidArgumentError(field, `has unknown word ${quoteBounded(word)}; known prompts: ${classes.join(', ')}`);
    weights[idx]! += 1;
  }
  let sum = 0;
  for (const w of weights) sum += w;
  for (let i = 0; i < k; i++) weights[i]! /= sum;
  return weights;
}

export interface ResolvedSegment {
  fromFrame: number;
  classWeights: Float32Array;
}

/**
 * Class weights of a window covering latent frames [f0, f0 + n): the mean of
 * the weights of its frames, so a window that straddles a prompt change
 * blends both prompts in proportion and transitions cross-fade over overlaps.
 */
export function windowClassWeights(segments: readonly ResolvedSegment[], f0: number, n: number, temporalScale: number): Float32Array {
  const k = segments[0]!.classWeights.length;
  const out = new Float32Array(k);
  for (let f = f0; f < f0 + n; f++) {
    const pixelFrame = f * temporalScale;
    let seg = segments[0]!;
    for (const s of segments) if (s.fromFrame <= pixelFrame) seg = s;
    for (let i = 0; i < k; i++) out[i]! += seg.classWeights[i]! / n;
  }
  return out;
}
