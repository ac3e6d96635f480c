/**
 * `probeVideo`: what a finished video file actually contains, from ffprobe.
 * Used by the CLI to report outputs and by tests to check the encoder.
 */
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { resolveBinary } from './binaries.ts';
import { ProbeError, stderrTail } from './errors.ts';

/** Facts about the first video stream of a file. */
export interface VideoProbe {
  /** ffprobe codec name: 'h264', 'vp9', ... */
  codec: string;
  width: number;
  height: number;
  /** Exact count of decoded frames (`-count_frames`), not the container's estimate. */
  frames: number;
  /** Average frame rate (falls back to the stream's base rate). */
  fps: number;
  durationSeconds: number;
  /** Pixel format, e.g. 'yuv420p'. */
  pixFmt: string;
}

/** Settings of {@link probeVideo}. */
export interface ProbeOptions {
  /** ffprobe binary; defaults to `@ffprobe-installer/ffprobe`, then /usr/bin/ffprobe. */
  ffprobePath?: string;
  /** Kill ffprobe after this long; counting frames decodes the whole stream. Default 60 s. */
  timeoutMs?: number;
}

/** Default limit for one ffprobe run. */
export const DEFAULT_PROBE_TIMEOUT_MS = 60_000;

// Only the fields we use; ffprobe prints numbers as JSON numbers or as
// strings depending on the field, so the schema follows its output exactly.
const streamSchema = z.object({
  codec_type: z.string().optional(),
  codec_name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  pix_fmt: z.string(),
  nb_read_frames: z.string().optional(),
  r_frame_rate: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  duration: z.string().optional(),
});
const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({ duration: z.string().optional() }).optional(),
});

/** Parse an ffprobe rational such as '24/1' or '30000/1001'; undefined for '0/0' and the like. */
export function parseRate(rate: string | undefined): number | undefined {
  if (rate === undefined) return undefined;
  const [num, den = '1'] = rate.split('/');
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function runFfprobe(bin: string, args: string[], path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const tail = stderrTail(stderr);
        reject(
          new ProbeError(`ffprobe failed on ${path} (${err.message.split('\n')[0]})${tail ? `:\n${tail}` : ''}`, {
            path,
            stderrTail: tail,
            cause: err,
          }),
        );
        return;
      }
      resolve(stdout);
    });
  });
}

/**
 * Probe the first video stream of `path` with ffprobe
 * (`-count_frames -print_format json -show_streams -show_format`).
 *
 * @throws {BinaryNotFoundError} when no executable ffprobe can be found.
 * @throws {ProbeError} when ffprobe fails or the file has no video stream.
 */
export async function probeVideo(path: string, opts: ProbeOptions = {}): Promise<VideoProbe> {
  const bin = resolveBinary('ffprobe', opts.ffprobePath);
  const args = [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-print_format', 'json', '-show_streams', '-show_format', path,
  ];
  const stdout = await runFfprobe(bin, args, path, opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);

  let parsed: z.infer<typeof probeSchema>;
  try {
    parsed = probeSchema.parse(JSON.parse(stdout));
  } catch (cause) {
    throw new ProbeError(`could not read ffprobe's output for ${path}`, { path, cause });
  }
  const stream = parsed.streams.find((s) => s.codec_type === undefined || s.codec_type === 'video');
  if (stream === undefined) throw new ProbeError(`${path} has no video stream`, { path });

  const frames = Number(stream.nb_read_frames);
  if (!Number.isInteger(frames) || frames < 0) {
    throw new ProbeError(`ffprobe did not count the frames of ${path} (nb_read_frames=${stream.nb_read_frames})`, { path });
  }
  const fps = parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate) ?? 0;
  // WebM stores no per-stream duration; the container's is the one to use there.
  const durationRaw = Number(parsed.format?.duration ?? stream.duration);
  const durationSeconds = Number.isFinite(durationRaw) ? durationRaw : fps > 0 ? frames / fps : 0;

  return {
    codec: stream.codec_name,
    width: stream.width,
    height: stream.height,
    frames,
    fps,
    durationSeconds,
    pixFmt: stream.pix_fmt,
  };
}
