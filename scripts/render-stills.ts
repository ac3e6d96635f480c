/**
 * `npm run stills`: the pictures in docs/models.md, rendered through the real
 * pipeline (an embedded cluster with two worker processes, the job API,
 * windows and blending, DDIM with the model's defaults, latent output
 * decoded by the field-decoder ONNX graph), into docs/images/:
 *
 * - `<component>.png`: frame 0 of a 16-frame 256 x 256 video of each prompt;
 * - `prompt-schedule.png`: a 96-frame 128 x 128 video with the schedule
 *   clouds, fire, ocean, aurora, lava, forest (16 frames each), frames 8, 24,
 *   ..., 88 (the middle of each segment) in a 2 x 3 grid.
 *
 * PNGs are written by ffmpeg with a 64-colour palette (a few tens of KB each).
 * Seeded: the same code renders the same pictures.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeLatent, openFieldDecoder } from '../bench/looks-render.ts';
import type { RgbFrames } from '../bench/looks-metrics.ts';
import { startLatentRenderer, type LatentRenderer } from '../bench/looks-pipeline.ts';
import { resolveBinary } from '../coordinator/video/binaries.ts';
import { FIELD_CLASSES, FIELD_WINDOW } from '../models/field-mixture/components.ts';
import { FIELD_VAE_SCALE } from '../models/field-vae/build.ts';

const OUT_DIR = fileURLToPath(new URL('../docs/images/', import.meta.url));
const SEED = 7;
const STEPS = 25;
/** Frames per prompt in the schedule still. */
const SEGMENT = 16;

/** Interleaved RGB24 of frame f of planar [F, 3, H, W] video. */
function frameRgb24(v: RgbFrames, f: number): Uint8Array {
  const n = v.height * v.width;
  const out = new Uint8Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const plane = v.data.subarray((f * 3 + c) * n, (f * 3 + c + 1) * n);
    for (let i = 0; i < n; i++) out[i * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, plane[i]!)));
  }
  return out;
}

/** Frames (each w x h RGB24) in a grid of `cols` columns, row by row. */
function grid(frames: readonly Uint8Array[], w: number, h: number, cols: number): { rgb: Uint8Array; width: number; height: number } {
  const rows = Math.ceil(frames.length / cols);
  const width = w * cols;
  const rgb = new Uint8Array(width * h * rows * 3);
  frames.forEach((frame, i) => {
    const [x0, y0] = [(i % cols) * w, Math.floor(i / cols) * h];
    for (let y = 0; y < h; y++) rgb.set(frame.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * width + x0) * 3);
  });
  return { rgb, width, height: h * rows };
}

/** Writes RGB24 as a PNG with a 64-colour palette, through ffmpeg. */
function writePng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  const args = ['-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', '-'];
  args.push('-vf', 'split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse=dither=none', '-frames:v', '1', path);
  return new Promise((resolve, reject) => {
    const ff = spawn(resolveBinary('ffmpeg'), args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    ff.on('error', reject);
    ff.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code} writing ${path}: ${stderr.trim()}`))));
    ff.stdin.end(rgb);
  });
}

async function renderDecoded(renderer: LatentRenderer, decoder: Awaited<ReturnType<typeof openFieldDecoder>>, schedule: string[], frames: number, size: number): Promise<RgbFrames> {
  const promptSchedule = schedule.map((prompt, i) => ({ fromFrame: i * SEGMENT, prompt }));
  const latent = await renderer.render({ promptSchedule, frames, height: size, width: size, steps: STEPS, seed: SEED });
  const [channels, f, h, w] = latent.shape as [number, number, number, number];
  return decodeLatent(decoder, latent.data, { channels, frames: f, height: h, width: w });
}

async function main(): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  const renderer = await startLatentRenderer(2);
  const decoder = await openFieldDecoder();
  try {
    for (const name of FIELD_CLASSES) {
      const v = await renderDecoded(renderer, decoder, [name], FIELD_WINDOW.frames, 256);
      const path = join(OUT_DIR, `${name}.png`);
      await writePng(path, frameRgb24(v, 0), v.width, v.height);
      process.stderr.write(`wrote ${path}\n`);
    }
    const long = await renderDecoded(renderer, decoder, [...FIELD_CLASSES], SEGMENT * FIELD_CLASSES.length, 128);
    const picks = FIELD_CLASSES.map((_, i) => frameRgb24(long, i * SEGMENT + SEGMENT / 2));
    const sheet = grid(picks, long.width, long.height, 2);
    const path = join(OUT_DIR, 'prompt-schedule.png');
    await writePng(path, sheet.rgb, sheet.width, sheet.height);
    process.stderr.write(`wrote ${path} (${long.frames} frames at ${long.width}x${long.height}, ${FIELD_VAE_SCALE}x the latent)\n`);
  } finally {
    await decoder.release();
    await renderer.close();
  }
}

await main();
