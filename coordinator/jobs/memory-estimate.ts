/**
 * What a job costs the coordinator in memory, estimated from its spec before
 * it is accepted (admission by cost) and reserved while it runs (a job waits
 * for room in the coordinator's memory budget instead of crashing it).
 *
 * With `B` the bytes of one float32 latent (channels x latent frames x
 * latent height x latent width x 4), `p` the Picard window (1 for the
 * sequential engines), `F` the windows out at once (at most
 * `windowsInFlight`, 256) and `b` the bytes of one native float32 window:
 *
 * - sequential engines (pipelined, or stepped with a known region):
 *   `9 B + 2.5 F b` — the latent, the next step's latent and one being
 *   merged, two mergers (float64 sums and weights: 2.5 B each), the step
 *   noise, and every window out (cut out, encoded at half size, decoded);
 * - Picard: `3 B + 7.5 p B + 2.5 F b` — the initial noise and the step
 *   noise, then per point: its iterate, its step output and a pooled spare
 *   (3 B), its x0 and eps predictions (2 B) and its merger (2.5 B); a
 *   layout of one window covering the latent has no merger and its x0 is
 *   the decoded output (`3 B + 5 p B + 0.5 p b`);
 * - the masked modes (image_to_video, extend, expand) add `3 p B`: per point,
 *   the copy whose known part the masked denoiser corrects before its
 *   prediction and the x0/eps pair of the evaluation in between
 *   (modes/masked-denoiser.ts). Counted from the code, not measured below.
 *
 * Measured against the peak resident memory of a fresh coordinator process
 * over its resident memory before the job (2-core dev machine, field-mixture,
 * 256x256): Picard 64 frames window 8 412 MiB estimated / 415 measured,
 * window 16 652 / 630, 128 frames window 12 904 / 920, window 4 424 / 420,
 * 32 frames window 16 406 / 335; sequential 128 frames 232 / 228, 256
 * frames 304 / 316. A merger's float64 pages become resident only as windows
 * are merged into them, and the window slots keep few of a round's mergers
 * filling at once, which is why the per-point cost measures a little under
 * its 7.5 latents. test/integration/memory-admission.test.ts checks three
 * sizes within 25 %.
 */
import type { DenoiserManifest } from '../../common/manifest.ts';
import { planAxis } from '../layout/planner.ts';
import type { ValidSpec } from './spec.ts';

/** Default windows a job has out at once (composite-denoiser.ts: 32 per call x 8 calls). */
export const DEFAULT_WINDOWS_IN_FLIGHT = 256;

export interface MemoryEstimate {
  /** Peak bytes the job is expected to hold. */
  bytes: number;
  /** One float32 latent. */
  latentBytes: number;
  /** Layout windows per step. */
  windows: number;
  /** Points per Picard round (1 for the sequential engines). */
  window: number;
  /** The latent shape [C, F, H, W]. */
  latent: [number, number, number, number];
}

/** What of a job's spec its memory depends on. */
export interface JobSize {
  frames: number;
  height: number;
  width: number;
  steps: number;
  sampler: { kind: ValidSpec['sampler']['kind'] | string; window: number };
  layout: { chunkOverlap: number; tileOverlap: number };
  /** The job's mode; the masked modes hold more per point (absent: text_to_video). */
  mode?: string;
}

/** Modes whose denoiser keeps a known region (modes/masked-denoiser.ts). */
const MASKED_MODES: ReadonlySet<string> = new Set(['image_to_video', 'extend', 'expand']);

/** The coordinator memory a job of `spec` on model `m` needs at its peak. */
export function estimateJobMemory(spec: JobSize, m: DenoiserManifest, windowsInFlight = DEFAULT_WINDOWS_IN_FLIGHT): MemoryEstimate {
  const C = m.latentChannels;
  const F = spec.frames / m.vaeScale.temporal;
  const H = spec.height / m.vaeScale.spatial;
  const W = spec.width / m.vaeScale.spatial;
  const latentBytes = 4 * C * F * H * W;
  // Window counts per axis, as the planner lays them out (arithmetic on starts only).
  const count = (length: number, native: number, overlap: number) => (length <= native ? 1 : planAxis(length, native, Math.min(overlap, native - 1)).length);
  const windows = count(F, m.nativeFrames, spec.layout.chunkOverlap) * count(H, m.nativeHeight, spec.layout.tileOverlap) * count(W, m.nativeWidth, spec.layout.tileOverlap);
  const windowBytes = 4 * C * Math.min(F, m.nativeFrames) * Math.min(H, m.nativeHeight) * Math.min(W, m.nativeWidth);
  const picard = spec.sampler.kind !== 'sequential';
  const p = picard ? Math.min(spec.sampler.window, spec.steps) : 1;
  const out = Math.min(windows * p, windowsInFlight);
  let live: number;
  if (!picard) live = 9 * latentBytes + 2.5 * out * windowBytes;
  else if (windows === 1) live = 3 * latentBytes + 5 * p * latentBytes + 0.5 * p * windowBytes;
  else live = 3 * latentBytes + 7.5 * p * latentBytes + 2.5 * out * windowBytes;
  if (spec.mode !== undefined && MASKED_MODES.has(spec.mode)) live += 3 * p * latentBytes;
  return { bytes: Math.ceil(live), latentBytes, windows, window: p, latent: [C, F, H, W] };
}

/** Bytes as a short human string: `1.5 GiB`, `340 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
