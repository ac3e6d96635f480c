/**
 * From a job's uploaded input to what the samplers need: the input decoded
 * by ffmpeg frame by frame at the job's size, encoded to latents by the
 * model's encoder through the workers, and placed as a {@link KnownRegion}.
 *
 * Per mode:
 * - `image_to_video`: the first frame (of an image or a video), cover-scaled
 *   to the job size, is latent frame 0; the mask feathers over the next
 *   {@link FEATHER} frames.
 * - `extend`: the input's frames are the first latent frames; the rest of
 *   `spec.frames` is generated; the mask feathers past the last given frame.
 * - `expand`: the input (a video, or an image repeated over the frames)
 *   scaled to fit inside the canvas keeping its aspect ratio, centred; the
 *   mask feathers over {@link FEATHER} latent pixels around it.
 * - `video_to_video` (SDEdit): the input's first `spec.frames` frames (or an
 *   image repeated) are the whole latent; no mask: sampling starts
 *   `round((1 - strength) * steps)` steps in, from the input noised to that
 *   level. Strength 1 starts from pure noise (the input is not used); when
 *   no step is left the output is the input's latent itself.
 */
import type { LatentDims } from '../layout/types.ts';
import { skippedSteps } from '../sampling/offset-scheduler.ts';
import { InputMediaError } from '../video/errors.ts';
import { readInputFrames, type FrameGeometry, type InputReaderOptions } from '../video/input-reader.ts';
import type { JobMode, ValidInput } from '../jobs/modes.ts';
import { containedRect } from './geometry.ts';
import type { KnownRegion, LatentBox } from './known-region.ts';

/** Latent elements (frames or pixels) over which a mask falls from 1 to 0 beyond the known box. */
export const FEATHER = 0;

/** Upper bound on the RGB bytes of one Encode call (well under the gRPC message limit). */
export const ENCODE_BATCH_BYTES = 16 * 1024 * 1024;

/** Encodes RGB frames `[N, 3, H, W]` (uint8, planar) to latent frames `[N, C, h, w]` (the WorkerPool's encode). */
export type EncodeFrames = (frames: Uint8Array, shape: number[], signal?: AbortSignal) => Promise<{ data: Float32Array; shape: number[] }>;

/** What a mode adds to sampling. */
export interface PreparedInput {
  /** Kept at every step by the masked denoiser (image_to_video, extend, expand). */
  region?: KnownRegion;
  /** Put into the initial latent at the start level (the masked modes, and video_to_video's whole latent). */
  init?: KnownRegion;
  /** Scheduler steps skipped by the SDEdit start (video_to_video). */
  skipSteps: number;
  /** Nothing left to sample: the output is `init`'s latent (video_to_video with every step skipped). */
  passthrough: boolean;
}

/** What {@link prepareInput} needs to know about the job. */
export interface PrepareInputOptions {
  mode: Exclude<JobMode, 'text_to_video'>;
  strength: number;
  steps: number;
  input: Pick<ValidInput, 'kind' | 'frames' | 'width' | 'height'>;
  /** The job latent. */
  dims: LatentDims;
  /** Pixels per latent element, spatially. */
  spatialScale: number;
  /** The input file (private, server-chosen). */
  path: string;
  encode: EncodeFrames;
  signal?: AbortSignal;
  reader?: InputReaderOptions;
}

/** Decodes and encodes the input and places it for the job's mode. */
export async function prepareInput(opts: PrepareInputOptions): Promise<PreparedInput> {
  const { mode, dims, spatialScale: ss, input } = opts;
  const full = { f0: 0, frames: dims.frames, h0: 0, height: dims.height, w0: 0, width: dims.width };
  const cover: FrameGeometry = { width: dims.width * ss, height: dims.height * ss, fit: 'cover' };
  const frames = (wanted: number) => (input.kind === 'image' ? 1 : Math.min(input.frames, wanted));
  if (mode === 'video_to_video') {
    const skipSteps = skippedSteps(opts.strength, opts.steps);
    // Strength 1: pure noise, exactly as text_to_video (no need to read the input).
    if (skipSteps === 0) return { skipSteps: 0, passthrough: false };
    const data = repeatFrames(await encodeInput(opts, cover, frames(dims.frames)), dims, dims.frames);
    const init: KnownRegion = { dims, box: full, data, feather: { frames: 0, height: 0, width: 0 } };
    return skipSteps >= opts.steps ? { init, skipSteps: 0, passthrough: true } : { init, skipSteps, passthrough: false };
  }
  let box: LatentBox;
  let data: Float32Array;
  let feather: KnownRegion['feather'];
  if (mode === 'image_to_video') {
    box = { ...full, frames: 1 };
    data = await encodeInput(opts, cover, 1);
    feather = { frames: FEATHER, height: 0, width: 0 };
  } else if (mode === 'extend') {
    const n = frames(dims.frames - 1);
    box = { ...full, frames: n };
    data = await encodeInput(opts, cover, n);
    feather = { frames: FEATHER, height: 0, width: 0 };
  } else {
    const rect = containedRect(input.width, input.height, dims.width * ss, dims.height * ss, ss);
    if (!rect) throw new InputMediaError(`is ${input.width}x${input.height}: too thin to place inside the canvas`);
    box = { f0: 0, frames: dims.frames, h0: rect.y0, height: rect.height, w0: rect.x0, width: rect.width };
    const encoded = await encodeInput(opts, { width: rect.pixelWidth, height: rect.pixelHeight, fit: 'fill' }, frames(dims.frames));
    data = repeatFrames(encoded, { channels: dims.channels, height: rect.height, width: rect.width }, dims.frames);
    feather = { frames: 0, height: FEATHER, width: FEATHER };
  }
  const region: KnownRegion = { dims, box, data, feather };
  return { region, init: region, skipSteps: 0, passthrough: false };
}

/**
 * Reads `n` frames at `geometry` and encodes them a few at a time; returns
 * the latent `[C, n, h, w]` (channel-major, like the job latent). Only one
 * batch of RGB frames is held at a time.
 */
async function encodeInput(opts: PrepareInputOptions, geometry: FrameGeometry, n: number): Promise<Float32Array> {
  const { width, height } = geometry;
  const ss = opts.spatialScale;
  const c = opts.dims.channels;
  const h = height / ss;
  const w = width / ss;
  const plane = width * height;
  const latentPlane = h * w;
  const perCall = Math.max(1, Math.floor(ENCODE_BATCH_BYTES / (3 * plane)));
  const out = new Float32Array(c * n * latentPlane);
  let batch = new Uint8Array(Math.min(perCall, n) * 3 * plane);
  let inBatch = 0;
  let done = 0;
  const flush = async () => {
    const res = await opts.encode(batch.subarray(0, inBatch * 3 * plane), [inBatch, 3, height, width], opts.signal);
    const [bn, bc, bh, bw] = res.shape;
    if (bn !== inBatch || bc !== c || bh !== h || bw !== w) {
      throw new Error(`encoder returned latents ${res.shape.join('x')} for ${inBatch} frames of ${width}x${height}; expected ${inBatch}x${c}x${h}x${w}`);
    }
    // [b, C, h, w] -> frames done..done+b of [C, n, h, w]
    for (let i = 0; i < inBatch; i++) {
      for (let ch = 0; ch < c; ch++) {
        const src = (i * c + ch) * latentPlane;
        out.set(res.data.subarray(src, src + latentPlane), (ch * n + done + i) * latentPlane);
      }
    }
    done += inBatch;
    inBatch = 0;
  };
  for await (const rgb of readInputFrames(opts.path, geometry, { ...opts.reader, maxFrames: n, signal: opts.signal })) {
    // Interleaved RGB24 -> planar [3, H, W] inside the batch.
    const base = inBatch * 3 * plane;
    for (let p = 0; p < plane; p++) {
      batch[base + p] = rgb[3 * p]!;
      batch[base + plane + p] = rgb[3 * p + 1]!;
      batch[base + 2 * plane + p] = rgb[3 * p + 2]!;
    }
    inBatch++;
    if (inBatch * 3 * plane === batch.length) await flush();
  }
  if (inBatch > 0) await flush();
  batch = new Uint8Array(0);
  if (done !== n) throw new InputMediaError(`gave ${done} frames, ${n} expected`);
  return out;
}

/**
 * `[C, n, h, w]` latents over `frames` frames: as they are when `n` equals
 * `frames`, an image's single frame repeated otherwise.
 */
function repeatFrames(latent: Float32Array, size: Pick<LatentDims, 'channels' | 'height' | 'width'>, frames: number): Float32Array {
  const plane = size.height * size.width;
  const n = latent.length / (size.channels * plane);
  if (n === frames) return latent;
  if (n !== 1) throw new RangeError(`cannot spread ${n} latent frames over ${frames}`);
  const out = new Float32Array(size.channels * frames * plane);
  for (let ch = 0; ch < size.channels; ch++) {
    const src = latent.subarray(ch * plane, (ch + 1) * plane);
    for (let f = 0; f < frames; f++) out.set(src, (ch * frames + f) * plane);
  }
  return out;
}
