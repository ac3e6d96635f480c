/**
 * Small input media for tests: smooth synthetic frames written as a video by
 * the project's ffmpeg encoder, or as a PNG by ffmpeg directly.
 */
import { spawnSync } from 'node:child_process';
import { FfmpegEncoder } from '../../coordinator/video/encoder.ts';
import { resolveBinary } from '../../coordinator/video/binaries.ts';

/** A smooth RGB24 frame (interleaved) that drifts with `t`: gradients plus a soft blob. */
export function syntheticFrame(width: number, height: number, t: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const cx = width * (0.3 + 0.02 * t);
  const cy = height * 0.5;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const blob = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (0.15 * width) ** 2));
      const o = 3 * (y * width + x);
      out[o] = Math.round(40 + 150 * (x / width) + 60 * blob);
      out[o + 1] = Math.round(60 + 120 * (y / height) * (1 - blob));
      out[o + 2] = Math.round(90 + 100 * blob + 2 * t);
    }
  }
  return out;
}

/** Writes `frames` synthetic frames as an mp4 (H.264) or webm (VP9) at `path`. */
export async function writeTestVideo(path: string, opts: { width: number; height: number; frames: number; format?: 'mp4' | 'webm' }): Promise<void> {
  const sink = new FfmpegEncoder().open({ width: opts.width, height: opts.height, fps: 24, format: opts.format ?? 'mp4', crf: 10, outputPath: path });
  for (let t = 0; t < opts.frames; t++) await sink.writeFrame(syntheticFrame(opts.width, opts.height, t));
  await sink.finish();
}

/** Writes one RGB24 frame as a PNG at `path` (lossless). */
export function writeTestPng(path: string, rgb: Uint8Array, width: number, height: number): void {
  const res = spawnSync(resolveBinary('ffmpeg'), ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-frames:v', '1', '-c:v', 'png', '-f', 'image2', path], { input: rgb });
  if (res.status !== 0) throw new Error(`ffmpeg could not write ${path}: ${res.stderr.toString()}`);
}
