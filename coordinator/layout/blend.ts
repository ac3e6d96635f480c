/**
 * Blend weights of overlapping windows.
 *
 * Weights are separable: `weight(f, y, x) = pf[f] * py[y] * px[x]`, one 1-D
 * profile per axis (a few hundred numbers per window instead of a dense
 * frames*height*width array; the merger multiplies them on the fly).
 *
 * Along an axis a window is tapered only at edges interior to the latent, over
 * a ramp as long as its actual overlap with the neighbouring window on that
 * side (so the snapped last window, which overlaps more, ramps longer). Edges
 * on the latent border keep weight 1, so borders are not down-weighted. Every
 * weight is strictly positive, so every covered element gets a total weight > 0.
 *
 * Ramp shapes, with `u = (d + 1) / (ramp + 1)` in (0, 1) and d the distance
 * from the edge:
 * - uniform: 1 everywhere (no taper);
 * - linear: `u` — two equal facing ramps sum to exactly 1;
 * - cosine: `(1 - cos(pi u)) / 2` — also sums to 1 with its mirror;
 * - gaussian: `exp(-(1 - u)^2 / (2 * 0.3^2))`, a half Gaussian falling to
 *   about 0.4% at the edge (not a partition of unity; the merge normalises).
 * Where the two ramps of a window meet (overlap > half the window) the
 * smaller of the two weights applies.
 *
 * Jobs default to gaussian. A model's predictions are least reliable at its
 * window's edges (it cannot see past them; the reference model even wraps
 * around), and with stride = window / 2 one chunk ends where the next starts,
 * so linear ramps, which keep 1/9 of the weight on those edge frames, leave a
 * step there: on the `long` bench (512 frames, 10 steps) the temporal seam
 * ratio is 1.52 (forest) and 1.22 (lava) with linear, 1.08 and 1.06 with
 * gaussian (edge weight 0.012).
 */
import { AXES, windowStart, type Axis, type LatentSize, type Window } from './types.ts';

/** Blend weight profile kind. */
export type BlendKind = 'uniform' | 'linear' | 'cosine' | 'gaussian';

/** All blend kinds. */
export const BLEND_KINDS: readonly BlendKind[] = ['uniform', 'linear', 'cosine', 'gaussian'];

/** Relative width of the gaussian taper (sigma = 0.3 ramp). */
const GAUSSIAN_SIGMA = 0.3;

/** Separable weights of one window: one profile per axis, lengths = the window's sizes. */
export interface BlendProfile {
  readonly frames: Float64Array;
  readonly height: Float64Array;
  readonly width: Float64Array;
}

/** Ramp shape at `u` in (0, 1); strictly positive. */
export function rampShape(kind: BlendKind, u: number): number {
  switch (kind) {
    case 'uniform':
      return 1;
    case 'linear':
      return u;
    case 'cosine':
      return 0.5 - 0.5 * Math.cos(Math.PI * u);
    case 'gaussian': {
      const d = (1 - u) / GAUSSIAN_SIGMA;
      return Math.exp(-0.5 * d * d);
    }
  }
}

/**
 * 1-D profile of length `size` with a ramp of `leadRamp` elements at the start
 * and `trailRamp` at the end (0 = no taper on that side).
 */
export function axisProfile(kind: BlendKind, size: number, leadRamp: number, trailRamp: number): Float64Array {
  const out = new Float64Array(size);
  for (let p = 0; p < size; p++) {
    let w = 1;
    if (kind !== 'uniform') {
      if (p < leadRamp) w = Math.min(w, rampShape(kind, (p + 1) / (leadRamp + 1)));
      const back = size - 1 - p;
      if (back < trailRamp) w = Math.min(w, rampShape(kind, (back + 1) / (trailRamp + 1)));
    }
    out[p] = w;
  }
  return out;
}

/**
 * Blend profiles of `windows` (aligned with the array). Ramp lengths come from
 * the windows themselves: the largest overlap with another window's interval
 * that crosses this window's edge on that axis, capped at the window size.
 */
export function blendProfiles(windows: readonly Window[], latent: LatentSize, kind: BlendKind): BlendProfile[] {
  const intervals = new Map<Axis, { start: number; end: number }[]>();
  for (const axis of AXES) {
    const seen = new Set<string>();
    const list: { start: number; end: number }[] = [];
    for (const w of windows) {
      const start = windowStart(w, axis);
      const end = start + w[axis];
      const key = `${start}:${end}`;
      if (!seen.has(key)) {
        seen.add(key);
        list.push({ start, end });
      }
    }
    intervals.set(axis, list);
  }
  return windows.map((w) => {
    const profile = (axis: Axis): Float64Array => {
      const start = windowStart(w, axis);
      const size = w[axis];
      const end = start + size;
      let lead = 0;
      let trail = 0;
      for (const iv of intervals.get(axis)!) {
        // An interval crossing our edge; none crosses an edge on the latent border, which keeps weight 1.
        if (iv.start < start && iv.end > start) lead = Math.max(lead, iv.end - start);
        if (iv.start < end && iv.end > end) trail = Math.max(trail, end - iv.start);
      }
      return axisProfile(kind, size, Math.min(lead, size), Math.min(trail, size));
    };
    return Object.freeze({ frames: profile('frames'), height: profile('height'), width: profile('width') });
  });
}

/** Dense weights `[frames, height, width]` of a profile (for tests and debugging). */
export function denseWeights(profile: BlendProfile): Float32Array {
  const { frames: pf, height: py, width: px } = profile;
  const out = new Float32Array(pf.length * py.length * px.length);
  let k = 0;
  for (let f = 0; f < pf.length; f++) {
    for (let y = 0; y < py.length; y++) {
      const wfy = pf[f]! * py[y]!;
      for (let x = 0; x < px.length; x++) out[k++] = wfy * px[x]!;
    }
  }
  return out;
}
