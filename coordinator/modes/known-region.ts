/**
 * The known part of a job's latent in the masked modes, and its mask.
 *
 * A known region is a box of the `[C, F, H, W]` latent whose values are
 * given (the encoded input), plus a feather: a mask that is 1 on the box
 * and ramps linearly to 0 over `feather` elements beyond each side of it,
 * per axis (`m = m_f(f) * m_h(h) * m_w(w)`). In the feather the known value
 * is the box's nearest edge value (clamped coordinates), so a soft mask
 * pulls the generated content gently towards the input at its border
 * without ever changing the box itself: the given frames / pixels stay
 * exactly known.
 *
 * Only the box is stored (`[C, box]`), plus three per-axis profiles, so an
 * `extend` of a long video holds the input's latent, not a second full latent.
 */
import type { LatentDims } from '../layout/types.ts';

/** A box of the latent: `[f0, f0 + frames) x [h0, h0 + height) x [w0, w0 + width)`. */
export interface LatentBox {
  f0: number;
  frames: number;
  h0: number;
  height: number;
  w0: number;
  width: number;
}

/** Known values over a box of the latent, with the mask's feather. */
export interface KnownRegion {
  dims: LatentDims;
  box: LatentBox;
  /** Known latent over the box, `[C, box.frames, box.height, box.width]`. */
  data: Float32Array;
  /** Elements beyond each side of the box over which the mask falls from 1 to 0, per axis. */
  feather: { frames: number; height: number; width: number };
}

/** Where the mask of one axis is non-zero: global index, mask weight, box-local (clamped) index. */
export interface AxisSupport {
  index: Int32Array;
  weight: Float64Array;
  local: Int32Array;
}

/**
 * The mask profile of one axis: 1 on `[start, start + size)`, then
 * `(feather + 1 - d) / (feather + 1)` at distance `d = 1..feather` outside,
 * 0 beyond; clipped to `[0, length)`.
 */
export function axisSupport(length: number, start: number, size: number, feather: number): AxisSupport {
  const lo = Math.max(0, start - feather);
  const hi = Math.min(length, start + size + feather);
  const n = Math.max(0, hi - lo);
  const out: AxisSupport = { index: new Int32Array(n), weight: new Float64Array(n), local: new Int32Array(n) };
  for (let k = 0; k < n; k++) {
    const i = lo + k;
    const d = i < start ? start - i : i >= start + size ? i - (start + size - 1) : 0;
    out.index[k] = i;
    out.weight[k] = d === 0 ? 1 : (feather + 1 - d) / (feather + 1);
    out.local[k] = Math.min(size - 1, Math.max(0, i - start));
  }
  return out;
}

/** Throws a RangeError unless the region's box lies inside its latent and its data has the box's size. */
export function checkRegion(r: KnownRegion): void {
  const { dims: d, box: b } = r;
  const inside = (start: number, size: number, length: number) => Number.isInteger(start) && Number.isInteger(size) && start >= 0 && size >= 1 && start + size <= length;
  if (!inside(b.f0, b.frames, d.frames) || !inside(b.h0, b.height, d.height) || !inside(b.w0, b.width, d.width)) {
    throw new RangeError(`known box ${JSON.stringify(b)} is not inside the latent ${d.channels}x${d.frames}x${d.height}x${d.width}`);
  }
  const want = d.channels * b.frames * b.height * b.width;
  if (r.data.length !== want) throw new RangeError(`known data has ${r.data.length} elements, the box needs ${want}`);
  for (const [axis, f] of Object.entries(r.feather)) {
    if (!Number.isInteger(f) || f < 0) throw new RangeError(`feather.${axis} must be an integer >= 0, got ${f}`);
  }
}

/**
 * Calls `visit(j, m, k)` for every latent element `j` with mask `m > 0`,
 * with its known value `k`, in memory order.
 */
export function visitKnown(r: KnownRegion, visit: (j: number, m: number, k: number) => void): void {
  const { dims: d, box: b, data } = r;
  const sf = axisSupport(d.frames, b.f0, b.frames, r.feather.frames);
  const sh = axisSupport(d.height, b.h0, b.height, r.feather.height);
  const sw = axisSupport(d.width, b.w0, b.width, r.feather.width);
  for (let c = 0; c < d.channels; c++) {
    for (let fi = 0; fi < sf.index.length; fi++) {
      for (let hi = 0; hi < sh.index.length; hi++) {
        const mfh = sf.weight[fi]! * sh.weight[hi]!;
        const row = ((c * d.frames + sf.index[fi]!) * d.height + sh.index[hi]!) * d.width;
        const knownRow = ((c * b.frames + sf.local[fi]!) * b.height + sh.local[hi]!) * b.width;
        for (let wi = 0; wi < sw.index.length; wi++) {
          visit(row + sw.index[wi]!, mfh * sw.weight[wi]!, data[knownRow + sw.local[wi]!]!);
        }
      }
    }
  }
}

/** The full mask `[C, F, H, W]` (for tests and debugging; the samplers never materialise it). */
export function maskOf(r: KnownRegion): Float32Array {
  const d = r.dims;
  const mask = new Float32Array(d.channels * d.frames * d.height * d.width);
  visitKnown(r, (j, m) => {
    mask[j] = m;
  });
  return mask;
}

/**
 * Pastes the known values into `latent` in place: `x += m (k - x)`, and
 * exactly `k` where `m = 1`. Sampling ends at the last step's noise level,
 * which need not be noiseless (DDIM without `setAlphaToOne` ends at abar_0),
 * so the final latent gets the known region pasted once more.
 */
export function pasteKnown(latent: Float32Array, r: KnownRegion): Float32Array {
  const d = r.dims;
  if (latent.length !== d.channels * d.frames * d.height * d.width) throw new RangeError(`latent has ${latent.length} elements, the region's latent ${d.channels * d.frames * d.height * d.width}`);
  visitKnown(r, (j, m, k) => {
    latent[j] = m === 1 ? k : latent[j]! + m * (k - latent[j]!);
  });
  return latent;
}
