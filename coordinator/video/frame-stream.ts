import type { WorkerPool } from '../cluster/worker-pool.ts';

/**
 * Decodes a [C, F, H, W] latent frame by frame through the workers and hands
 * each RGB24 frame to `sink` in order. A few frames travel per Decode call,
 * and the next batch is decoded while the current one is written, so the
 * coordinator holds at most two batches of RGB frames, never the video.
 */
export async function streamDecodedFrames(opts: {
  pool: WorkerPool;
  model: string;
  latent: Float32Array;
  dims: { channels: number; frames: number; height: number; width: number };
  /** Latent frames per Decode call. */
  framesPerCall: number;
  sink: (rgb24: Uint8Array, frameIndex: number) => Promise<void>;
  signal?: AbortSignal;
}): Promise<number> {
  const { pool, model, latent, dims, sink, signal } = opts;
  const { channels: c, frames: f, height: h, width: w } = dims;
  const plane = h * w;
  const decodeBatch = (start: number) => {
    const n = Math.min(opts.framesPerCall, f - start);
    // Gather [n, C, h, w] from the channel-major latent.
    const batch = new Float32Array(n * c * plane);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const src = (ch * f + start + i) * plane;
        batch.set(latent.subarray(src, src + plane), (i * c + ch) * plane);
      }
    }
    return pool.decode(model, batch, [n, c, h, w], signal);
  };
  let written = 0;
  let next = f > 0 ? decodeBatch(0) : undefined;
  for (let start = 0; start < f; start += opts.framesPerCall) {
    const current = await next!;
    const after = start + opts.framesPerCall;
    next = after < f ? decodeBatch(after) : undefined;
    // Avoid an unhandled rejection while the current batch is written.
    next?.catch(() => undefined);
    const [n, three, H, W] = current.shape as [number, number, number, number];
    if (three !== 3) throw new Error(`decoder returned ${three} channels, expected 3`);
    const rgbPlane = H * W;
    for (let i = 0; i < n; i++) {
      signal?.throwIfAborted();
      const frame = new Uint8Array(rgbPlane * 3);
      const base = i * 3 * rgbPlane;
      for (let p = 0; p < rgbPlane; p++) {
        frame[3 * p] = current.data[base + p]!;
        frame[3 * p + 1] = current.data[base + rgbPlane + p]!;
        frame[3 * p + 2] = current.data[base + 2 * rgbPlane + p]!;
      }
      await sink(frame, written++);
    }
  }
  return written;
}
