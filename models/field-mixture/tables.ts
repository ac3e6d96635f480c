import { alphasCumprod, type TrainSchedule } from '../../common/noise-schedule.ts';
import { FIELD_WINDOW, type FieldComponent, type FieldWindow } from './components.ts';
import { fieldEigenvalues, halfGridMultiplicity, toHalfGrid } from './spectrum.ts';

/**
 * Per-timestep tables baked into the field-mixture graph, computed in
 * float64 here so the float32 graph only looks them up.
 */

/** Signal and noise scales of the VP forward process x_t = a x0 + s eps, per training timestep. */
export interface NoiseLevels {
  /** a_t = sqrt(abar_t). */
  alpha: Float64Array;
  /** s_t = sqrt(1 - abar_t), from float64 abar (1 - abar in float32 would lose digits near t = 0). */
  sigma: Float64Array;
}

/** `a_t` and `s_t` for every training timestep of `schedule`. */
export function noiseLevels(schedule: TrainSchedule): NoiseLevels {
  const abar = alphasCumprod(schedule);
  const alpha = new Float64Array(abar.length);
  const sigma = new Float64Array(abar.length);
  for (let t = 0; t < abar.length; t++) {
    alpha[t] = Math.sqrt(abar[t]!);
    sigma[t] = Math.sqrt(1 - abar[t]!);
  }
  return { alpha, sigma };
}

/** Eigenvalues of every component on the half grid, laid out [K, C, F, H, W/2+1]. */
export function halfGridEigenvalues(components: readonly FieldComponent[], win: FieldWindow = FIELD_WINDOW): Float64Array {
  const parts = components.map((c) => toHalfGrid(fieldEigenvalues(c, win), win));
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Relative log-determinants, laid out [T, K]: for each timestep t,
 *   L[t, k] = sum_c sum_f log(a_t^2 lambda_kc(f) + s_t^2)   (full grid)
 * minus min_k L[t, k]. The log-likelihood of x_t under component k contains
 * -L/2; only differences between components matter to the responsibilities,
 * and the differences stay accurate in float32 while L itself (~1e5 at small
 * t) would not.
 */
export function relativeLogDets(
  components: readonly FieldComponent[],
  levels: NoiseLevels,
  win: FieldWindow = FIELD_WINDOW,
): Float64Array {
  const K = components.length;
  const T = levels.alpha.length;
  const lambda = halfGridEigenvalues(components, win);
  const mult = halfGridMultiplicity(win);
  const n = mult.length;
  const C = win.channels;
  const out = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    const a2 = levels.alpha[t]! ** 2;
    const s2 = levels.sigma[t]! ** 2;
    // sum log(a^2 l + s^2) = N log s^2 + sum log1p(a^2 l / s^2); the first term is common to all k.
    const g = a2 / s2;
    let min = Infinity;
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const base = (k * C + c) * n;
        for (let i = 0; i < n; i++) sum += mult[i]! * Math.log1p(g * lambda[base + i]!);
      }
      out[t * K + k] = sum;
      if (sum < min) min = sum;
    }
    for (let k = 0; k < K; k++) out[t * K + k] = out[t * K + k]! - min;
  }
  return out;
}
