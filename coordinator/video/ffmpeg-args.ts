/**
 * Encoder options: defaults, validation, and the ffmpeg argument lists they
 * compile to. Pure functions, so the command line is testable without ffmpeg.
 */
import type { VideoEncoderOptions } from './encoder-port.ts';
import { EncoderError } from './errors.ts';

/** Default constant rate factor per container: x264 18 is visually lossless; VP9 31 is Google's 1080p advice. */
export const DEFAULT_CRF: Readonly<Record<VideoEncoderOptions['format'], number>> = { mp4: 18, webm: 31 };

/** Valid CRF range per codec (libx264, libvpx-vp9). */
export const CRF_RANGE: Readonly<Record<VideoEncoderOptions['format'], readonly [number, number]>> = {
  mp4: [0, 51],
  webm: [0, 63],
};

/** Default libx264 preset: a few times faster than `medium` at a modest size cost. */
export const DEFAULT_X264_PRESET = 'veryfast';

/** Suffix of the file ffmpeg writes to; renamed to the real path only on success. */
export const PARTIAL_SUFFIX = '.partial';

/** Validated, defaulted, frozen encoder settings for one output file. */
export interface CompiledEncoderOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly format: VideoEncoderOptions['format'];
  readonly crf: number;
  readonly outputPath: string;
  readonly partialPath: string;
  /** Bytes in one RGB24 frame: width * height * 3. */
  readonly frameBytes: number;
}

function invalid(opts: VideoEncoderOptions, field: string, message: string): EncoderError {
  return new EncoderError(`invalid encoder option ${field}: ${message}`, {
    operation: 'open',
    outputPath: String(opts.outputPath),
    field,
  });
}

/**
 * Apply defaults and reject what ffmpeg would choke on later, with an error
 * naming the field. yuv420p subsamples chroma 2x2, so width and height must
 * be even: ffmpeg's own message for that ("width not divisible by 2") only
 * appears after the first frame, far from the cause.
 *
 * @throws {EncoderError} operation 'open', `field` set.
 */
export function compileEncoderOptions(opts: VideoEncoderOptions): CompiledEncoderOptions {
  for (const field of ['width', 'height'] as const) {
    const v = opts[field];
    if (!Number.isInteger(v) || v <= 0) throw invalid(opts, field, `must be a positive integer, got ${v}`);
    if (v % 2 !== 0) throw invalid(opts, field, `must be even for yuv420p output, got ${v}`);
  }
  if (!Number.isFinite(opts.fps) || opts.fps <= 0) throw invalid(opts, 'fps', `must be a positive number, got ${opts.fps}`);
  if (opts.format !== 'mp4' && opts.format !== 'webm') {
    throw invalid(opts, 'format', `must be 'mp4' or 'webm', got ${String(opts.format)}`);
  }
  const crf = opts.crf ?? DEFAULT_CRF[opts.format];
  const [lo, hi] = CRF_RANGE[opts.format];
  if (!Number.isInteger(crf) || crf < lo || crf > hi) {
    throw invalid(opts, 'crf', `must be an integer in [${lo}, ${hi}] for ${opts.format}, got ${crf}`);
  }
  if (typeof opts.outputPath !== 'string' || opts.outputPath.length === 0) {
    throw invalid(opts, 'outputPath', 'must be a non-empty path');
  }
  return Object.freeze({
    width: opts.width,
    height: opts.height,
    fps: opts.fps,
    format: opts.format,
    crf,
    outputPath: opts.outputPath,
    partialPath: opts.outputPath + PARTIAL_SUFFIX,
    frameBytes: opts.width * opts.height * 3,
  });
}

/**
 * Options placed before `-i pipe:0`: raw RGB24 frames of a fixed size at a
 * fixed rate (rawvideo has no header, so ffmpeg must be told all three).
 * Also quietens ffmpeg so stderr holds only warnings and errors, which is
 * what we quote when an encode fails.
 */
export function inputArgs(c: CompiledEncoderOptions): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    '-pix_fmt', 'rgb24', '-s', `${c.width}x${c.height}`, '-r', String(c.fps),
  ];
}

/**
 * Options placed before the output path. The container is forced with `-f`
 * because the output is written to `*.partial`, whose extension ffmpeg
 * cannot map to a muxer.
 *
 * @param x264Preset libx264 `-preset`; ignored for webm.
 */
export function outputArgs(c: CompiledEncoderOptions, x264Preset: string): string[] {
  if (c.format === 'mp4') {
    return [
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', String(c.crf), '-preset', x264Preset,
      // moov atom at the front so browsers can start playback before the download ends.
      '-movflags', '+faststart',
      '-f', 'mp4',
    ];
  }
  return [
    // -b:v 0 makes -crf a pure constant-quality target rather than a bitrate cap.
    '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-b:v', '0', '-crf', String(c.crf),
    // libvpx's default "good, cpu-used 1" is very slow; 4 with row threading is the usual VOD trade-off.
    '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1',
    '-f', 'webm',
  ];
}
