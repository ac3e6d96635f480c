import assert from 'node:assert/strict';
import type { Rng } from '../../common/rng.ts';
import { FIELD_WINDOW_SIZE } from '../../models/field-mixture/components.ts';
import type { FieldMixtureReference } from '../../models/field-mixture/reference.ts';

/** A noisy window whose posterior is split about 50/50 between two components. */
export interface BalancedWindow {
  xt: Float32Array;
  /** Class weights: the two components only, the others excluded (weight 0). */
  weights: Float32Array;
  /** The two components, the one pure noise favours first. */
  pair: [number, number];
}

/**
 * A genuinely mixed posterior at `timestep`, which makes the log-determinant
 * term of the likelihoods matter: take pure noise, which the components
 * `hi` and `lo` closest in likelihood rank in that order, and a noised prior
 * sample of `lo` (its signal raised if need be) which `lo` wins; bisect on the straight line between them
 * for the point where their log-likelihoods differ by less than 1 nat
 * (too far apart for float32 weights to balance at the ends), and weight
 * them by the remaining difference so the posterior is ~50/50.
 */
export function balancedWindow(ref: FieldMixtureReference, timestep: number, rng: Rng): BalancedWindow {
  const K = ref.components.length;
  const { alpha, sigma } = ref.noiseLevel(Math.fround(timestep));
  const noise = rng.fillNormal(new Float32Array(FIELD_WINDOW_SIZE));
  const ll0 = ref.componentLogLikelihoods(noise, alpha, sigma);
  let [hi, lo, gap] = [0, 1, Infinity];
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) if (i !== j && ll0[i]! >= ll0[j]! && ll0[i]! - ll0[j]! < gap) [hi, lo, gap] = [i, j, ll0[i]! - ll0[j]!];
  }
  const diff = (x: Float32Array): number => {
    const ll = ref.componentLogLikelihoods(x, alpha, sigma);
    return ll[hi]! - ll[lo]!;
  };
  // A prior sample of lo over the noise, its signal raised until lo wins it (near t = 999, a x0 alone is lost in the noise).
  const x0 = ref.samplePrior(rng, lo);
  const eps = rng.fillNormal(new Float32Array(FIELD_WINDOW_SIZE));
  let target = Float32Array.from(x0, (x, i) => alpha * x + sigma * eps[i]!);
  for (let gain = 2; diff(target) >= 0 && gain < 2 ** 30; gain *= 2) target = Float32Array.from(x0, (x, i) => gain * alpha * x + sigma * eps[i]!);
  assert.ok(diff(target) < 0, `component ${lo} does not win its own sample at t=${timestep}`);
  const at = (lambda: number): Float32Array => Float32Array.from(noise, (x, i) => (1 - lambda) * x + lambda * target[i]!);
  let [a, b] = [0, 1];
  let xt: Float32Array = noise;
  let d = gap;
  for (let i = 0; i < 60 && Math.abs(d) >= 1; i++) {
    const m = 0.5 * (a + b);
    xt = at(m);
    d = diff(xt);
    if (d > 0) a = m;
    else b = m;
  }
  assert.ok(Math.abs(d) < 1, `no balanced point between components ${hi} and ${lo} (difference ${d})`);
  const weights = new Float32Array(K);
  weights[hi] = Math.exp(-d);
  weights[lo] = 1;
  return { xt, weights, pair: [hi, lo] };
}
