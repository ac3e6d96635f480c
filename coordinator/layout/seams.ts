/**
 * Seam metrics of a finished latent: how much more the video changes across
 * the edges of the layout's windows than elsewhere.
 *
 * Measured on the latent `[C, F, H, W]`, not the decoded frames: it is what
 * the windows produced, costs three passes over the coordinator's copy and
 * works for `latent` output too. The reference decoder works frame by frame
 * and is spatially near-local (a 1x1 colour map, then 4x bilinear
 * upsampling), so a latent seam is a visible seam and vice versa.
 *
 * Along an axis of length L there are L - 1 boundaries; boundary p lies
 * between positions p - 1 and p, and its change is the mean absolute
 * difference of the two neighbouring slices (frames, rows or columns) over
 * all other coordinates and channels. The boundaries where a window of the
 * plan starts or ends (inside the latent) are the window edges; the others
 * are interior. The seam ratio of the axis is
 *
 *   mean(change at window edges) / median(change at interior boundaries),
 *
 * 1 when the axis has no window edge (a single window) or no interior
 * boundary. About 1 means the edges are invisible; an isolated-window plan,
 * whose windows are sampled independently, gives a clearly larger ratio.
 *
 * - `seamTemporal`: the frame axis (chunk edges).
 * - `seamSpatial`: the larger of the row and column ratios (tile edges) over
 *   the axes that have tile edges; the larger rather than a pooled value, so
 *   seams along one axis are not diluted by a clean other axis.
 */
import { windowStart, type Axis, type LatentDims, type Window } from './types.ts';

/** Seam ratios of a latent under a plan (see the module comment). */
export interface SeamMetrics {
  readonly seamTemporal: number;
  readonly seamSpatial: number;
}

/** Seam ratios of `latent` for the windows it was sampled with. */
export function seamMetrics(latent: Float32Array, dims: LatentDims, windows: readonly Window[]): SeamMetrics {
  const ratio = (axis: Axis): number | undefined => {
    const edges = windowEdges(windows, axis, dims[axis]);
    return edges.length ? seamRatio(boundaryChanges(latent, dims, axis), edges) : undefined;
  };
  // An axis without tile edges has no seam to report; it must not floor the other axis at 1.
  const spatial = [ratio('height'), ratio('width')].filter((r): r is number => r !== undefined);
  return { seamTemporal: ratio('frames') ?? 1, seamSpatial: spatial.length ? Math.max(...spatial) : 1 };
}

/**
 * Mean absolute change across each boundary of `axis`: entry p - 1 is the
 * boundary between positions p - 1 and p (length `dims[axis] - 1`).
 */
export function boundaryChanges(latent: Float32Array, dims: LatentDims, axis: Axis): Float64Array {
  const { channels: C, frames: F, height: H, width: W } = dims;
  if (latent.length !== C * F * H * W) {
    throw new RangeError(`latent has ${latent.length} elements, dims ${C}x${F}x${H}x${W} need ${C * F * H * W}`);
  }
  const L = dims[axis];
  const sums = new Float64Array(Math.max(L - 1, 0));
  if (L < 2) return sums;
  // Strides of the axis; the latent is C blocks of F*H*W, each of F planes of H rows of W.
  if (axis === 'frames') {
    const plane = H * W;
    for (let c = 0; c < C; c++) {
      for (let f = 0; f < F - 1; f++) {
        const a = (c * F + f) * plane;
        sums[f] += sumAbsDiff(latent, a, a + plane, plane);
      }
    }
    return scale(sums, 1 / (C * H * W));
  }
  for (let cf = 0; cf < C * F; cf++) {
    const base = cf * H * W;
    if (axis === 'height') {
      for (let y = 0; y < H - 1; y++) sums[y] += sumAbsDiff(latent, base + y * W, base + (y + 1) * W, W);
    } else {
      for (let y = 0; y < H; y++) {
        const row = base + y * W;
        for (let x = 0; x < W - 1; x++) sums[x] += Math.abs(latent[row + x + 1]! - latent[row + x]!);
      }
    }
  }
  return scale(sums, 1 / (C * F * (axis === 'height' ? W : H)));
}

/**
 * Boundaries (1 .. length - 1, sorted, unique) where a window starts or ends
 * along `axis`; the latent's own ends are not boundaries.
 */
export function windowEdges(windows: readonly Window[], axis: Axis, length: number): number[] {
  const edges = new Set<number>();
  for (const w of windows) {
    const start = windowStart(w, axis);
    for (const p of [start, start + w[axis]]) if (p > 0 && p < length) edges.add(p);
  }
  return [...edges].sort((a, b) => a - b);
}

/**
 * `mean(changes at edges) / median(changes elsewhere)`; boundary p is
 * `changes[p - 1]`. 1 without edges or without interior boundaries, or when
 * the interior median is 0 and the edges are too (a constant latent).
 */
export function seamRatio(changes: Float64Array, edges: readonly number[]): number {
  if (edges.length === 0) return 1;
  const isEdge = new Uint8Array(changes.length);
  let edgeSum = 0;
  for (const p of edges) {
    if (p < 1 || p > changes.length) throw new RangeError(`edge ${p} outside boundaries 1..${changes.length}`);
    isEdge[p - 1] = 1;
    edgeSum += changes[p - 1]!;
  }
  const interior: number[] = [];
  for (let i = 0; i < changes.length; i++) if (!isEdge[i]) interior.push(changes[i]!);
  if (interior.length === 0) return 1;
  const edgeMean = edgeSum / edges.length;
  const med = median(interior);
  if (med === 0) return edgeMean === 0 ? 1 : Number.POSITIVE_INFINITY;
  return edgeMean / med;
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function sumAbsDiff(x: Float32Array, a: number, b: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(x[b + i]! - x[a + i]!);
  return s;
}

function scale(v: Float64Array, k: number): Float64Array {
  for (let i = 0; i < v.length; i++) v[i]! *= k;
  return v;
}
