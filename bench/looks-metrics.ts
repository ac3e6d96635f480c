/**
 * What a decoded video looks like, in numbers: how large its structures are
 * and how fast they move. Pure functions over RGB frames laid out
 * [F, 3, H, W] in [0, 1] (the field decoder's output).
 *
 * - Structure size: the 1/e length of the luminance autocorrelation along x
 *   and along y (pixels). Each frame's mean is removed; the correlation at a
 *   lag pools every pixel pair at that lag inside the frame, over all frames;
 *   the length is where it first drops below 1/e, linearly interpolated
 *   between integer lags.
 * - Motion: the shift (dy, dx) maximising the cross-correlation of the
 *   luminance of frame f + 1 with frame f shifted by (dy, dx), summed over
 *   all consecutive pairs, refined to sub-pixel by a parabola through the
 *   peak and its neighbours on each axis (pixels per frame).
 */

/** Rec. 601 luma weights (what ffmpeg's yuv420p encoding uses). */
const LUMA = [0.299, 0.587, 0.114] as const;

/** Frames of a decoded video: data [F, 3, H, W]. */
export interface RgbFrames {
  data: Float32Array;
  frames: number;
  height: number;
  width: number;
}

/** Structure size and motion of one video. */
export interface LooksMeasurement {
  /** 1/e length of the luminance autocorrelation along x and y, pixels. */
  lengthX: number;
  lengthY: number;
  /** Frame-to-frame shift of the luminance, pixels per frame (y down). */
  motion: { dy: number; dx: number };
}

/** Luminance of every frame, mean removed per frame: [F, H, W]. */
export function centredLuminance(v: RgbFrames): Float64Array {
  const { frames: F, height: H, width: W } = v;
  const n = H * W;
  const out = new Float64Array(F * n);
  for (let f = 0; f < F; f++) {
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const y = LUMA[0] * v.data[(f * 3) * n + i]! + LUMA[1] * v.data[(f * 3 + 1) * n + i]! + LUMA[2] * v.data[(f * 3 + 2) * n + i]!;
      out[f * n + i] = y;
      mean += y;
    }
    mean /= n;
    for (let i = 0; i < n; i++) out[f * n + i] = out[f * n + i]! - mean;
  }
  return out;
}

/**
 * Pearson correlation of y[f, r, c] with y[f + frameLag, r + dy, c + dx]
 * over the pixel pairs inside the frame, pooled over every f: the building
 * block of both autocorrelation (frameLag 0) and motion (frameLag 1).
 * Normalising by the energies of the two overlapping parts (not by the pair
 * count) keeps large shifts, whose overlap is small, from being favoured.
 */
function laggedCorrelation(y: Float64Array, F: number, H: number, W: number, frameLag: number, dy: number, dx: number): number {
  const n = H * W;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const r0 = Math.max(0, -dy);
  const r1 = Math.min(H, H - dy);
  const c0 = Math.max(0, -dx);
  const c1 = Math.min(W, W - dx);
  for (let f = 0; f + frameLag < F; f++) {
    const a = f * n;
    const b = (f + frameLag) * n + dy * W + dx;
    for (let r = r0; r < r1; r++) {
      const row = r * W;
      for (let c = c0; c < c1; c++) {
        const u = y[a + row + c]!;
        const v = y[b + row + c]!;
        ab += u * v;
        aa += u * u;
        bb += v * v;
      }
    }
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Lag (pixels) where the normalised autocorrelation along an axis first falls below 1/e; Infinity if it never does within maxLag. */
export function autocorrelationLength(y: Float64Array, F: number, H: number, W: number, axis: 'x' | 'y', maxLag: number): number {
  if (!y.some((v) => v !== 0)) return 0;
  const threshold = 1 / Math.E;
  let prev = 1;
  for (let lag = 1; lag <= maxLag; lag++) {
    const c = laggedCorrelation(y, F, H, W, 0, axis === 'y' ? lag : 0, axis === 'x' ? lag : 0);
    if (c < threshold) return lag - 1 + (prev - threshold) / (prev - c);
    prev = c;
  }
  return Infinity;
}

/**
 * Shift (dy, dx), |dy|, |dx| <= maxShift, where frame f + 1 best matches
 * frame f: y[f + 1](r, c) ~ y[f](r - dy, c - dx). Sub-pixel by a parabola
 * through the peak on each axis.
 */
export function frameMotion(y: Float64Array, F: number, H: number, W: number, maxShift: number): { dy: number; dx: number } {
  const side = 2 * maxShift + 1;
  const corr = new Float64Array(side * side);
  let best = 0;
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      // laggedCorrelation pairs y[f](r, c) with y[f + 1](r + dy, c + dx).
      corr[i * side + j] = laggedCorrelation(y, F, H, W, 1, i - maxShift, j - maxShift);
      if (corr[i * side + j]! > corr[best]!) best = i * side + j;
    }
  }
  const bi = Math.floor(best / side);
  const bj = best % side;
  const refine = (m: number, c: number, p: number): number => {
    const den = m - 2 * c + p;
    return den < 0 ? (0.5 * (m - p)) / den : 0;
  };
  const at = (i: number, j: number): number => corr[i * side + j]!;
  const dy = bi - maxShift + (bi > 0 && bi < side - 1 ? refine(at(bi - 1, bj), at(bi, bj), at(bi + 1, bj)) : 0);
  const dx = bj - maxShift + (bj > 0 && bj < side - 1 ? refine(at(bi, bj - 1), at(bi, bj), at(bi, bj + 1)) : 0);
  return { dy, dx };
}

/** Structure size and motion of a decoded video. */
export function measureLooks(v: RgbFrames, opts: { maxLag?: number; maxShift?: number } = {}): LooksMeasurement {
  const { frames: F, height: H, width: W } = v;
  const y = centredLuminance(v);
  const maxLag = opts.maxLag ?? Math.floor(Math.min(H, W) / 2);
  return {
    lengthX: autocorrelationLength(y, F, H, W, 'x', maxLag),
    lengthY: autocorrelationLength(y, F, H, W, 'y', maxLag),
    motion: frameMotion(y, F, H, W, opts.maxShift ?? 10),
  };
}

/** Motion along a direction (the component's drift velocity): the projection of the shift on its unit vector. */
export function motionAlong(motion: { dy: number; dx: number }, direction: { vy: number; vx: number }): number {
  const norm = Math.hypot(direction.vy, direction.vx);
  return norm > 0 ? (motion.dy * direction.vy + motion.dx * direction.vx) / norm : 0;
}
