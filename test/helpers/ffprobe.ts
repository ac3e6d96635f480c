/**
 * ffprobe / ffmpeg helpers for tests: probe a file, and decode one frame of
 * a video back to raw RGB24 to check that pixels survived an encode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolveBinary } from '../../coordinator/video/binaries.ts';
import type { VideoProbe } from '../../coordinator/video/probe.ts';

export { probeVideo } from '../../coordinator/video/probe.ts';
export type { VideoProbe } from '../../coordinator/video/probe.ts';

/** Asserts each of the video stream's properties in `want` (codec, size, frame count, rate, pixel format). */
export function assertVideoStream(probe: VideoProbe, want: Pick<VideoProbe, 'codec' | 'width' | 'height' | 'frames' | 'fps' | 'pixFmt'>): void {
  for (const key of ['codec', 'width', 'height', 'frames', 'fps', 'pixFmt'] as const) assert.equal(probe[key], want[key], `${key} of the video stream`);
}

/**
 * Decode frame `index` (0-based) of `path` to interleaved RGB24 with the
 * same ffmpeg the encoder uses. Resolves with `width * height * 3` bytes.
 */
export function decodeFrameRgb(path: string, index: number, width: number, height: number): Promise<Uint8Array> {
  const ffmpegPath = resolveBinary('ffmpeg');
  const args = [
    '-hide_banner', '-loglevel', 'error', '-i', path,
    // select by decoded frame number, then emit exactly one raw frame on stdout
    '-vf', `select=eq(n\\,${index})`, '-vsync', '0', '-frames:v', '1',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`decoding frame ${index} of ${path} failed: ${stderr.toString()}`, { cause: err }));
        return;
      }
      const expected = width * height * 3;
      if (stdout.length !== expected) {
        reject(new Error(`decoded frame ${index} of ${path} has ${stdout.length} bytes, expected ${expected}`));
        return;
      }
      resolve(new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length));
    });
  });
}

/** Mean of each RGB channel over an interleaved RGB24 frame. */
export function meanRgb(rgb: Uint8Array): [number, number, number] {
  const sums = [0, 0, 0];
  for (let i = 0; i < rgb.length; i += 3) {
    sums[0] += rgb[i];
    sums[1] += rgb[i + 1];
    sums[2] += rgb[i + 2];
  }
  const n = rgb.length / 3;
  return [sums[0] / n, sums[1] / n, sums[2] / n];
}
