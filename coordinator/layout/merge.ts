/**
 * Moving window data in and out of the global latent `[C, F, H, W]`
 * (row-major, channels outermost), and the weighted merge
 *
 *   x = sum_w weight_w * pad(x_w) / sum_w weight_w.
 *
 * The merger holds two accumulators only — the weighted sum `[C, F, H, W]`
 * and the weight sum `[F, H, W]` (weights do not depend on the channel) —
 * both float64, so the merged value rounds to float32 once; a single window
 * of weight 1 therefore passes through bit for bit.
 */
import { blendProfiles, type BlendKind, type BlendProfile } from './blend.ts';
import { LayoutError } from './errors.ts';
import type { LatentDims, Window } from './types.ts';

/** Number of elements of a window's data `[C, frames, height, width]`. */
export function windowLength(dims: LatentDims, w: Window): number {
  return dims.channels * w.frames * w.height * w.width;
}

/** Throws a LayoutError unless `w` lies inside the latent. */
export function checkWindowInside(dims: LatentDims, w: Window): void {
  const ok =
    Number.isInteger(w.f0) && Number.isInteger(w.y0) && Number.isInteger(w.x0) &&
    w.f0 >= 0 && w.y0 >= 0 && w.x0 >= 0 && w.frames >= 1 && w.height >= 1 && w.width >= 1 &&
    w.f0 + w.frames <= dims.frames && w.y0 + w.height <= dims.height && w.x0 + w.width <= dims.width;
  if (!ok) {
    throw new LayoutError(
      'window',
      `window ${w.index} (f0 ${w.f0}, y0 ${w.y0}, x0 ${w.x0}, ${w.frames}x${w.height}x${w.width}) ` +
        `does not fit the latent ${dims.frames}x${dims.height}x${dims.width}`,
    );
  }
}

/** Copies window `w` out of `latent` into `[C, frames, height, width]` (`out` or a new array). */
export function extractWindow(latent: Float32Array, dims: LatentDims, w: Window, out?: Float32Array): Float32Array {
  checkLatent(latent, dims);
  checkWindowInside(dims, w);
  const len = windowLength(dims, w);
  const dst = out ?? new Float32Array(len);
  if (dst.length !== len) throw new LayoutError('out', `out has ${dst.length} elements, window ${w.index} needs ${len}`);
  const { frames: F, height: H, width: W } = dims;
  const rowLength = w.width;
  let k = 0;
  for (let c = 0; c < dims.channels; c++) {
    for (let f = 0; f < w.frames; f++) {
      for (let y = 0; y < w.height; y++) {
        const row = ((c * F + w.f0 + f) * H + w.y0 + y) * W + w.x0;
        // A plain loop: native windows have short rows (32), where a
        // subarray + set per row costs more in allocation than it copies.
        for (let x = 0; x < rowLength; x++) dst[k + x] = latent[row + x]!;
        k += rowLength;
      }
    }
  }
  return dst;
}

/** x0 = (p * sample - q * output) / d, element by element (see {@link Merger.accumulateAffine}). */
export interface AffineX0 {
  readonly p: number;
  readonly q: number;
  readonly d: number;
}

/** The data itself (`accumulate`). */
const IDENTITY: AffineX0 = Object.freeze({ p: 0, q: -1, d: 1 });

/** Weighted merge of window data into the global latent. One merger per merge (not reentrant). */
export class Merger {
  readonly dims: LatentDims;
  private readonly byIndex = new Map<number, { window: Window; profile: BlendProfile }>();
  private readonly sum: Float64Array;
  private readonly weight: Float64Array;
  /** One row's blend weights (scratch). */
  private rowWeights = new Float64Array(0);

  /**
   * @param blend a blend kind (profiles are computed from `windows`) or
   *   precomputed profiles aligned with `windows`.
   */
  constructor(dims: LatentDims, windows: readonly Window[], blend: BlendKind | readonly BlendProfile[]) {
    for (const axis of ['channels', 'frames', 'height', 'width'] as const) {
      if (!Number.isInteger(dims[axis]) || dims[axis] < 1) {
        throw new LayoutError(`dims.${axis}`, `dims.${axis} must be a positive integer, got ${dims[axis]}`);
      }
    }
    const profiles = typeof blend === 'string' ? blendProfiles(windows, dims, blend) : blend;
    if (profiles.length !== windows.length) {
      throw new LayoutError('blend', `${profiles.length} blend profiles for ${windows.length} windows`);
    }
    windows.forEach((window, i) => {
      checkWindowInside(dims, window);
      if (this.byIndex.has(window.index)) throw new LayoutError('windows', `duplicate window index ${window.index}`);
      this.byIndex.set(window.index, { window, profile: profiles[i]! });
    });
    this.dims = dims;
    const spatial = dims.frames * dims.height * dims.width;
    this.sum = new Float64Array(dims.channels * spatial);
    this.weight = new Float64Array(spatial);
  }

  /** Adds `weight_w * data` for window `w`; `data` is `[C, frames, height, width]`. */
  accumulate(w: Window, data: Float32Array): void {
    this.accumulateAffine(w, data, data, IDENTITY);
  }

  /**
   * Adds `weight_w * x0` for window `w`, where, element by element,
   *
   *   x0 = float32((p * sample - q * output) / d),
   *
   * which with `x0Coefficients` is the x0 of any prediction type, rounded to
   * float32 exactly as a separate conversion would store it: the sums are
   * bit for bit those of converting first and accumulating after, without
   * the window-sized intermediate.
   */
  accumulateAffine(w: Window, output: Float32Array, sample: Float32Array, c: AffineX0): void {
    const entry = this.byIndex.get(w.index);
    if (!entry || !sameWindow(entry.window, w)) {
      throw new LayoutError('window', `window ${w.index} is not one of this merger's windows`);
    }
    const len = windowLength(this.dims, w);
    if (output.length !== len || sample.length !== len) {
      throw new LayoutError('data', `window ${w.index} data has ${output.length} elements, expected ${len}`);
    }
    const { frames: F, height: H, width: W, channels: C } = this.dims;
    const { frames: pf, height: py, width: px } = entry.profile;
    const spatial = F * H * W;
    const win = w.frames * w.height * w.width;
    const rowLength = w.width;
    if (this.rowWeights.length < rowLength) this.rowWeights = new Float64Array(rowLength);
    const wrow = this.rowWeights;
    const sum = this.sum;
    const weight = this.weight;
    const identity = c === IDENTITY;
    const { p, q, d } = c;
    // Row by row, each channel's row contiguous; every element still gets
    // exactly one `wt * value` added, so the sums are those of any loop order.
    for (let f = 0; f < w.frames; f++) {
      for (let y = 0; y < w.height; y++) {
        const wfy = pf[f]! * py[y]!;
        const g0 = ((w.f0 + f) * H + w.y0 + y) * W + w.x0;
        const l0 = (f * w.height + y) * w.width;
        for (let x = 0; x < rowLength; x++) {
          const wt = wfy * px[x]!;
          wrow[x] = wt;
          weight[g0 + x] += wt;
        }
        for (let ch = 0; ch < C; ch++) {
          const gc = ch * spatial + g0;
          const lc = ch * win + l0;
          if (identity) {
            for (let x = 0; x < rowLength; x++) sum[gc + x] += wrow[x]! * output[lc + x]!;
          } else {
            for (let x = 0; x < rowLength; x++) sum[gc + x] += wrow[x]! * Math.fround((p * sample[lc + x]! - q * output[lc + x]!) / d);
          }
        }
      }
    }
  }

  /**
   * The merged latent `sum / weight` (into `out` or a new array).
   * @throws LayoutError if an element was covered by no accumulated window.
   */
  result(out?: Float32Array): Float32Array {
    const { frames: F, height: H, width: W, channels: C } = this.dims;
    const spatial = F * H * W;
    const dst = out ?? new Float32Array(C * spatial);
    if (dst.length !== C * spatial) throw new LayoutError('out', `out has ${dst.length} elements, latent has ${C * spatial}`);
    for (let g = 0; g < spatial; g++) {
      const wt = this.weight[g]!;
      if (!(wt > 0)) {
        const x = g % W;
        const y = Math.floor(g / W) % H;
        const f = Math.floor(g / (W * H));
        throw new LayoutError('windows', `latent element (f ${f}, y ${y}, x ${x}) is covered by no window`);
      }
      for (let c = 0; c < C; c++) dst[c * spatial + g] = this.sum[c * spatial + g]! / wt;
    }
    return dst;
  }

  /**
   * Frames `[f0, f1)` of channel `channel` of the merged latent (`sum /
   * weight`, the same numbers {@link result} gives there) into `out`, laid
   * out `[f1 - f0, H, W]`. For merging and stepping a latent a frame range
   * at a time (coordinator/sampling/pipelined-sequential.ts).
   * @throws LayoutError if an element was covered by no accumulated window.
   */
  resultFrames(channel: number, f0: number, f1: number, out: Float32Array): Float32Array {
    const { frames: F, height: H, width: W, channels: C } = this.dims;
    if (!Number.isInteger(channel) || channel < 0 || channel >= C || !Number.isInteger(f0) || !Number.isInteger(f1) || f0 < 0 || f1 > F || f0 > f1) {
      throw new LayoutError('frames', `channel ${channel}, frames [${f0}, ${f1}) are outside the latent ${C}x${F}x${H}x${W}`);
    }
    const plane = H * W;
    const n = (f1 - f0) * plane;
    if (out.length !== n) throw new LayoutError('out', `out has ${out.length} elements, frames [${f0}, ${f1}) need ${n}`);
    const g0 = f0 * plane;
    const s0 = channel * F * plane + g0;
    for (let k = 0; k < n; k++) {
      const wt = this.weight[g0 + k]!;
      if (!(wt > 0)) {
        const g = g0 + k;
        throw new LayoutError('windows', `latent element (f ${Math.floor(g / plane)}, y ${Math.floor(g / W) % H}, x ${g % W}) is covered by no window`);
      }
      out[k] = this.sum[s0 + k]! / wt;
    }
    return out;
  }

  /** Clears the accumulators for another merge over the same windows. */
  reset(): void {
    this.sum.fill(0);
    this.weight.fill(0);
  }
}

function sameWindow(a: Window, b: Window): boolean {
  return (
    a.f0 === b.f0 && a.y0 === b.y0 && a.x0 === b.x0 &&
    a.frames === b.frames && a.height === b.height && a.width === b.width
  );
}

function checkLatent(latent: Float32Array, dims: LatentDims): void {
  const len = dims.channels * dims.frames * dims.height * dims.width;
  if (latent.length !== len) {
    throw new LayoutError(
      'latent',
      `latent has ${latent.length} elements, dims ${dims.channels}x${dims.frames}x${dims.height}x${dims.width} need ${len}`,
    );
  }
}
