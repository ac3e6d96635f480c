/**
 * One job's live previews: takes the engine's x0 prediction at most every
 * `everySeconds` (and never while the previous preview is still being
 * made), copies just the latent frames the strip shows, and makes the
 * image later, off the engine's path — through the model's preview colour
 * map on the coordinator, or the decoder on a worker — then posts it to the
 * board. A preview that would have to wait is dropped, never the step.
 * After sampling, the decoded video's frames fill the contact sheet that
 * the job's SUCCEEDED event carries.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { PredictionFrames, PredictionObserver } from '../sampling/prediction-frames.ts';
import type { PreviewBoard, PreviewImage } from './board.ts';
import { ContactSheet } from './contact-sheet.ts';
import { encodePng } from './png.ts';
import { interleave, mapLatentFrame, pickFrames, resizeInto, shrinkPlanes, tileSize, type PreviewColourMap } from './pixels.ts';
import type { ValidPreviewSpec } from './preview-spec.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { WorkerPool } from '../cluster/worker-pool.ts';
import type { ValidSpec } from '../jobs/spec.ts';

/** Latent frames `[N, C, h, w]` -> planar RGB frames `[N, 3, H, W]` (the VAE's Decode). */
export type DecodeFrames = (latents: Float32Array, shape: number[], signal?: AbortSignal) => Promise<{ data: Uint8Array; shape: number[] }>;

export interface JobPreviewsOptions {
  jobId: string;
  settings: ValidPreviewSpec;
  /** The job's latent. */
  dims: { channels: number; frames: number; height: number; width: number };
  /** The job's video. */
  video: { frames: number; width: number; height: number };
  totalSteps: number;
  /** The manifest's preview colour map; required when `settings.source` is `map`. */
  map?: PreviewColourMap;
  decode: DecodeFrames;
  board: PreviewBoard;
  log: Logger;
  /** The job's signal: a decode in flight stops with the job. */
  signal?: AbortSignal;
  /** Milliseconds (injected in tests); default `performance.now`. */
  now?: () => number;
}

/** What a job's previews cost and how many were dropped (job metrics, bench). */
export interface PreviewStats {
  made: number;
  /** Predictions offered while a preview was still being made. */
  busy: number;
  failed: number;
  /** Milliseconds on the engine's path (copying the frames), drawing the strip (map, resampling), encoding PNGs (mostly in the thread pool) and waiting for Decode calls. */
  engineMs: number;
  drawMs: number;
  encodeMs: number;
  decodeMs: number;
}

export class JobPreviews {
  readonly stats: PreviewStats = { made: 0, busy: 0, failed: 0, engineMs: 0, drawMs: 0, encodeMs: 0, decodeMs: 0 };
  private readonly picked: number[];
  private readonly tile: { width: number; height: number };
  /** Latent pixels averaged into one before a Decode: the decoded frames are then no larger than a tile needs (1/4 the work for a 256-pixel video in 128-pixel tiles). */
  private readonly decodeShrink: number;
  private readonly now: () => number;
  private last = -Infinity;
  private making: Promise<void> | undefined;
  private sheet: ContactSheet | undefined;

  constructor(private readonly opts: JobPreviewsOptions) {
    this.picked = pickFrames(opts.dims.frames, opts.settings.frames);
    this.tile = tileSize(opts.settings.width, this.picked.length, opts.video.width, opts.video.height);
    this.decodeShrink = Math.max(1, Math.floor(Math.min(opts.video.width / this.tile.width, opts.video.height / this.tile.height)));
    this.now = opts.now ?? (() => performance.now());
  }

  /** The engine's hook: shows step `step`'s prediction when it is time and nothing is in the making. */
  readonly observe: PredictionObserver = (step, x0) => {
    if (this.making) {
      this.stats.busy++;
      return;
    }
    const t = this.now();
    if (t - this.last < this.opts.settings.everySeconds * 1000) return;
    this.last = t;
    let latents: Float32Array;
    try {
      latents = this.copyFrames(x0);
    } catch (err) {
      this.failed(err);
      return;
    }
    this.stats.engineMs += this.now() - t;
    // The image is made after the engine's turn, never in it.
    this.making = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.make(step + 1, latents))
      .catch((err: unknown) => this.failed(err))
      .finally(() => (this.making = undefined));
  };

  /** Offered every decoded video frame in order (RGB24 at the video's size): the contact sheet keeps its frames. */
  frame(rgb24: Uint8Array, index: number): void {
    this.sheet ??= new ContactSheet(this.opts.video, this.opts.settings.width);
    this.sheet.offer(rgb24, index);
  }

  /** Waits for a preview in the making, then posts the contact sheet (when frames were offered). */
  async finish(): Promise<void> {
    await this.idle();
    if (!this.sheet) return;
    const { width, height, frames } = this.sheet;
    const image = await this.sheet.png();
    this.opts.board.publish(this.opts.jobId, { image, mimeType: 'image/png', width, height, step: this.opts.totalSteps, totalSteps: this.opts.totalSteps, frames, contactSheet: true });
  }

  /** Waits for a preview in the making; then what the previews took: the job's `previews` event. */
  async settle(): Promise<{ made: number; dropped: number; mainThreadMs: number; decodeMs: number }> {
    await this.idle();
    const s = this.stats;
    return { made: s.made, dropped: s.busy, mainThreadMs: s.engineMs + s.drawMs, decodeMs: s.decodeMs };
  }

  /** Resolves once no preview is being made. */
  async idle(): Promise<void> {
    while (this.making) await this.making;
  }

  /** The picked latent frames of the prediction, as a decoder batch `[N, C, h, w]`. */
  private copyFrames(x0: PredictionFrames): Float32Array {
    const { channels, height, width } = this.opts.dims;
    const plane = height * width;
    const out = new Float32Array(this.picked.length * channels * plane);
    this.picked.forEach((f, i) => {
      for (let c = 0; c < channels; c++) x0(c, f, f + 1, out.subarray((i * channels + c) * plane, (i * channels + c + 1) * plane));
    });
    return out;
  }

  private async make(step: number, latents: Float32Array): Promise<void> {
    const { channels, height, width } = this.opts.dims;
    const n = this.picked.length;
    const canvasWidth = this.tile.width * n;
    const canvas = new Uint8Array(canvasWidth * this.tile.height * 3);
    const place = (i: number) => ({ x: i * this.tile.width, y: 0, ...this.tile, canvasWidth });
    let t = this.now();
    if (this.opts.settings.source === 'map') {
      const plane = height * width;
      const rgb = new Uint8Array(plane * 3);
      for (let i = 0; i < n; i++) {
        mapLatentFrame(latents.subarray(i * channels * plane, (i + 1) * channels * plane), channels, plane, this.opts.map!, rgb);
        resizeInto(rgb, width, height, canvas, place(i));
      }
    } else {
      const f = this.decodeShrink;
      const small = shrinkPlanes(latents, n * channels, height, width, f);
      const frames = await this.opts.decode(small, [n, channels, Math.ceil(height / f), Math.ceil(width / f)], this.opts.signal);
      this.stats.decodeMs += this.now() - t;
      t = this.now();
      const [, three, H, W] = frames.shape as [number, number, number, number];
      if (three !== 3) throw new Error(`decoder returned ${three} channels, expected 3`);
      const rgb = new Uint8Array(H * W * 3);
      for (let i = 0; i < n; i++) {
        interleave(frames.data.subarray(i * 3 * H * W, (i + 1) * 3 * H * W), H * W, rgb);
        resizeInto(rgb, W, H, canvas, place(i));
      }
    }
    this.stats.drawMs += this.now() - t;
    t = this.now();
    const image = await encodePng(canvas, canvasWidth, this.tile.height);
    this.stats.encodeMs += this.now() - t;
    const preview: PreviewImage = { image, mimeType: 'image/png', width: canvasWidth, height: this.tile.height, step, totalSteps: this.opts.totalSteps, frames: n, contactSheet: false };
    this.stats.made++;
    this.opts.board.publish(this.opts.jobId, preview);
  }

  private failed(err: unknown): void {
    this.stats.failed++;
    // A preview is a courtesy: it never fails the job. Say so once.
    if (this.stats.failed === 1 && !this.opts.signal?.aborted) this.opts.log.warn('making a preview failed; the job goes on', { job: this.opts.jobId, error: errorMessage(err) });
  }
}

/** What {@link startJobPreviews} needs of a job and its coordinator. */
export interface JobPreviewsContext {
  jobId: string;
  spec: Pick<ValidSpec, 'model' | 'frames' | 'width' | 'height' | 'previews'>;
  manifest: Pick<DenoiserManifest, 'previewMap'>;
  dims: JobPreviewsOptions['dims'];
  totalSteps: number;
  pool: Pick<WorkerPool, 'decode'>;
  board: PreviewBoard | undefined;
  log: Logger;
  signal: AbortSignal;
}

/** The previews of a job that asks for them (and a coordinator that posts them); undefined otherwise. */
export function startJobPreviews(c: JobPreviewsContext): JobPreviews | undefined {
  const settings = c.spec.previews;
  if (!settings || !c.board) return undefined;
  return new JobPreviews({
    jobId: c.jobId,
    settings,
    dims: c.dims,
    video: { frames: c.spec.frames, width: c.spec.width, height: c.spec.height },
    totalSteps: c.totalSteps,
    map: c.manifest.previewMap,
    decode: (latents, shape, signal) => c.pool.decode(c.spec.model, latents, shape, signal),
    board: c.board,
    log: c.log,
    signal: c.signal,
  });
}
