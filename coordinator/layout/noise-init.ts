/**
 * Initial latent noise of a job, `[C, F, H, W]` (channels outermost), seeded
 * per job.
 *
 * - `independent`: every element an independent standard normal, drawn in
 *   storage order from `new Rng(seed, 0)` (the job pipeline's original draw,
 *   kept bit for bit).
 * - `freenoise`: FreeNoise noise rescheduling (Qiu et al., "FreeNoise:
 *   Tuning-Free Longer Video Diffusion via Noise Rescheduling", 2023). The
 *   first native window of frames keeps its independent noise; every later
 *   frame takes the noise of a frame exactly one native window earlier,
 *   shuffled within local blocks, so the noise (and the content it seeds)
 *   repeats with local variations along the video and long videos stay
 *   coherent instead of drifting.
 *
 * The exact FreeNoise rule, with `window` the chunk length, `stride =
 * window - overlap`:
 *
 *   for b = 0, 1, ...: block b covers frames [start, end) with
 *     start = window + b * stride, end = min(start + stride, F);
 *     sources = [start - window, end - window), shuffled by a Fisher-Yates
 *       permutation drawn from `new Rng(seed, FREENOISE_STREAM_BASE + b)`;
 *     noise[:, start + i] = noise[:, sources[i]] for i in [0, end - start).
 *
 * Blocks are processed in order and every source lies before its block, so a
 * source frame already holds its final noise (a copy of a copy traces back to
 * the first window). Each frame is a copy of a standard-normal frame, so the
 * marginal variance stays 1. The first `window` frames are identical to the
 * `independent` noise of the same seed.
 */
import { Rng } from '../../common/rng.ts';
import type { Seed } from '../../common/seed.ts';
import { LayoutError } from './errors.ts';
import type { LatentDims } from './types.ts';

/** How the initial noise of a job is drawn. */
export type NoiseInit = 'independent' | 'freenoise';

/** All noise-init kinds. */
export const NOISE_INITS: readonly NoiseInit[] = ['independent', 'freenoise'];

/**
 * First RNG stream of the FreeNoise block permutations (block b uses stream
 * base + b), far above the initial draw (stream 0) and the step noise
 * (streams 1000 + step), so no stream is shared.
 */
export const FREENOISE_STREAM_BASE = 1_000_000;

/** Temporal layout FreeNoise follows: the chunk length and overlap in latent frames. */
export interface FreeNoiseLayout {
  /** Native window length (latent frames). */
  window: number;
  /** Chunk overlap (latent frames), `0 <= overlap < window`. */
  overlap: number;
}

/**
 * Initial noise of kind `kind` for a latent of `dims`, standard normal
 * (scale it by the scheduler's `initNoiseSigma`). Deterministic in
 * `(kind, dims, seed, layout)`.
 */
export function initialNoise(kind: NoiseInit, dims: LatentDims, seed: Seed, layout: FreeNoiseLayout): Float32Array {
  const noise = independentNoise(dims, seed);
  if (kind === 'freenoise') {
    const sources = freeNoiseSources(dims.frames, layout.window, layout.overlap, seed);
    applyFrameSources(noise, dims, sources);
  }
  return noise;
}

/** `new Rng(seed, 0)` standard normals in storage order. */
export function independentNoise(dims: LatentDims, seed: Seed): Float32Array {
  const total = dims.channels * dims.frames * dims.height * dims.width;
  return new Rng(seed, 0).fillNormal(new Float32Array(total));
}

/**
 * FreeNoise source frame of every frame: `sources[f] = f` for the first
 * `window` frames, and for later frames the (earlier) frame whose noise
 * frame f copies, following the block rule in the module comment.
 * A video no longer than one window gets the identity.
 *
 * @throws LayoutError when `window` is not a positive integer or `overlap`
 *   not an integer in [0, window).
 */
export function freeNoiseSources(frames: number, window: number, overlap: number, seed: Seed): Int32Array {
  if (!Number.isInteger(window) || window < 1) throw new LayoutError('window', `window must be a positive integer, got ${window}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= window) {
    throw new LayoutError('overlap', `overlap must be an integer in [0, ${window}), got ${overlap}`);
  }
  const sources = new Int32Array(frames);
  for (let f = 0; f < frames; f++) sources[f] = f;
  const stride = window - overlap;
  for (let b = 0, start = window; start < frames; b++, start += stride) {
    const end = Math.min(start + stride, frames);
    const perm = permutation(end - start, new Rng(seed, FREENOISE_STREAM_BASE + b));
    for (let i = 0; i < end - start; i++) sources[start + i] = start - window + perm[i]!;
  }
  return sources;
}

/**
 * In place: frame f of every channel becomes a copy of frame `sources[f]`,
 * frames in increasing order (so a source before f is already final).
 */
export function applyFrameSources(latent: Float32Array, dims: LatentDims, sources: Int32Array): void {
  const { channels: C, frames: F, height: H, width: W } = dims;
  if (latent.length !== C * F * H * W) throw new LayoutError('latent', `latent has ${latent.length} elements, dims need ${C * F * H * W}`);
  if (sources.length !== F) throw new LayoutError('sources', `${sources.length} sources for ${F} frames`);
  const plane = H * W;
  for (let f = 0; f < F; f++) {
    const s = sources[f]!;
    if (s === f) continue;
    if (s < 0 || s > f) throw new LayoutError('sources', `frame ${f} cannot copy frame ${s} (sources must not lie ahead)`);
    for (let c = 0; c < C; c++) {
      const base = c * F * plane;
      latent.copyWithin(base + f * plane, base + s * plane, base + (s + 1) * plane);
    }
  }
}

/** Uniform random permutation of [0, n) (Fisher-Yates, draws from `rng`). */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
