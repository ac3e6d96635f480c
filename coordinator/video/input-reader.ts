/**
 * Reading an uploaded input (a video or a single image) with ffmpeg.
 *
 * Inputs arrive as bytes through the API and are kept in a private file the
 * server chose (never a path the user names). They are untrusted, so ffmpeg
 * and ffprobe only get to open that one local file
 * (`-protocol_whitelist file`) with a real media demuxer
 * (`-format_whitelist`): playlists and concat lists, which could make ffmpeg
 * read other files of the server, are refused.
 *
 * Uploads may be decompression bombs (a small file that decodes to
 * gigabytes): every ffprobe and ffmpeg run gets the decoders' pixel limit
 * (`-max_pixels`), so a picture above it fails before its frame buffer is
 * allocated, and the probe reads at most the frames a job can use.
 *
 * {@link probeInput} says what the file holds; {@link readInputFrames}
 * decodes it frame by frame to RGB24 at the size a job needs, so the caller
 * holds one frame at a time, not the video.
 */
import { execFile, spawn } from 'node:child_process';
import { resolveBinary } from './binaries.ts';
import { InputMediaError, stderrTail } from './errors.ts';

/** Demuxers an input may use: containers and single images, nothing that opens other files. */
export const INPUT_DEMUXERS: readonly string[] = [
  'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm', 'avi', 'gif', 'mpegts', 'mpeg', 'flv', 'ogg',
  'ivf', 'yuv4mpegpipe', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'bmp_pipe', 'tiff_pipe', 'gif_pipe',
];

/** Input options that confine ffmpeg/ffprobe to the one local file. */
const SAFE_INPUT_ARGS = ['-protocol_whitelist', 'file', '-format_whitelist', INPUT_DEMUXERS.join(',')];

/** Default limit for one ffprobe or ffmpeg run over an input. */
export const DEFAULT_INPUT_TIMEOUT_MS = 120_000;

/** Default largest picture of an input, in pixels: 4096 x 4096 (4K UHD and DCI 4K fit). */
export const DEFAULT_MAX_INPUT_PIXELS = 4096 * 4096;

/** What an input file holds (its first video stream). */
export interface InputProbe {
  /** `image` when it has exactly one frame. */
  kind: 'image' | 'video';
  width: number;
  height: number;
  /** Decoded frames, counted (not the container's estimate), at most `countFrames` when given. */
  frames: number;
  codec: string;
}

/** Binaries and limits of the input reader. */
export interface InputReaderOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  timeoutMs?: number;
  /** Largest picture the decoders may allocate, pixels (default {@link DEFAULT_MAX_INPUT_PIXELS}). */
  maxPixels?: number;
}

/** The decoders' pixel limit as an input option. */
function pixelLimitArgs(opts: InputReaderOptions): string[] {
  const max = opts.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxPixels must be a positive integer, got ${max}`);
  return ['-max_pixels', String(max)];
}

/**
 * Probes the first video stream of `path`, counting its frames — at most
 * `countFrames` of them when given (a job never uses more; a video of a
 * million tiny frames is not decoded to the end to learn that).
 *
 * @throws {InputMediaError} when the file is not an image or video the reader accepts,
 *   or its pictures are larger than `maxPixels`.
 */
export async function probeInput(path: string, opts: InputReaderOptions & { countFrames?: number } = {}): Promise<InputProbe> {
  const bin = resolveBinary('ffprobe', opts.ffprobePath);
  const cap = opts.countFrames;
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) throw new RangeError(`countFrames must be a positive integer, got ${cap}`);
  const args = [
    '-v', 'error', ...SAFE_INPUT_ARGS, ...pixelLimitArgs(opts), '-count_frames', '-select_streams', 'v:0',
    ...(cap !== undefined ? ['-read_intervals', `%+#${cap}`] : []),
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path,
  ];
  const limit = opts.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  let warnings = '';
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(bin, args, { timeout: opts.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, out, stderr) => {
      if (err) {
        const tail = stderrTail(stderr, 4).replaceAll(path, '<input>');
        const why = tail ? ` (${tail.replace(/\n/g, '; ')})` : '';
        reject(new InputMediaError(`is not an image or video ffmpeg can read with pictures of at most ${limit} pixels${why}`, { stderrTail: tail, cause: err }));
      } else {
        // ffprobe may succeed with the stream's size zeroed when the decoder refused a picture: say why.
        warnings = stderrTail(stderr, 2).replaceAll(path, '<input>');
        resolve(out);
      }
    });
  });
  let stream: { codec_name?: unknown; width?: unknown; height?: unknown; nb_read_frames?: unknown } | undefined;
  try {
    stream = (JSON.parse(stdout) as { streams?: (typeof stream)[] }).streams?.[0];
  } catch (cause) {
    throw new InputMediaError('could not be probed (unreadable ffprobe output)', { cause });
  }
  if (!stream) throw new InputMediaError('has no video stream or image');
  const width = Number(stream.width);
  const height = Number(stream.height);
  const frames = Number(stream.nb_read_frames);
  // The decoder refused a picture above the pixel limit: the stream is there, its size is not.
  if (!(width > 0 && height > 0)) {
    const why = warnings ? `: ${warnings.replace(/\n/g, '; ')}` : '';
    throw new InputMediaError(`has no picture size ffmpeg can decode within ${limit} pixels (width ${String(stream.width)}, height ${String(stream.height)})${why}`, { stderrTail: warnings });
  }
  if (width * height > limit) throw new InputMediaError(`is ${width}x${height}, ${width * height} pixels; inputs may have at most ${limit}`);
  if (!Number.isInteger(frames) || frames < 1) throw new InputMediaError('has no decodable frames');
  return { kind: frames === 1 ? 'image' : 'video', width, height, frames, codec: String(stream.codec_name ?? '') };
}

/** How frames are brought to the wanted size. */
export interface FrameGeometry {
  width: number;
  height: number;
  /**
   * `cover`: scale keeping the aspect ratio until the frame covers
   * width x height, then crop the centre; `fill`: scale to exactly
   * width x height (the caller chose a size with the input's aspect ratio).
   */
  fit: 'cover' | 'fill';
}

/** The ffmpeg video filter of a geometry. */
export function geometryFilter(g: FrameGeometry): string {
  return g.fit === 'cover'
    ? `scale=${g.width}:${g.height}:force_original_aspect_ratio=increase,crop=${g.width}:${g.height}`
    : `scale=${g.width}:${g.height}`;
}

/**
 * Decodes up to `maxFrames` frames of `path` as RGB24 (`height * width * 3`
 * bytes, interleaved, row-major), one frame per iteration. ffmpeg streams
 * through a pipe; breaking out of the loop (or `signal`) kills it.
 *
 * @throws {InputMediaError} when ffmpeg fails or ends inside a frame.
 */
export async function* readInputFrames(
  path: string,
  geometry: FrameGeometry,
  opts: InputReaderOptions & { maxFrames: number; signal?: AbortSignal },
): AsyncGenerator<Uint8Array> {
  const { width, height } = geometry;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) throw new RangeError(`bad frame size ${width}x${height}`);
  if (!Number.isInteger(opts.maxFrames) || opts.maxFrames < 1) throw new RangeError(`maxFrames must be a positive integer, got ${opts.maxFrames}`);
  const bin = resolveBinary('ffmpeg', opts.ffmpegPath);
  // -vsync 0: every decoded frame once, no duplicates or drops for a frame rate.
  const args = [
    '-v', 'error', '-nostdin', ...SAFE_INPUT_ARGS, ...pixelLimitArgs(opts), '-i', path, '-map', '0:v:0', '-an', '-sn',
    '-vf', geometryFilter(geometry), '-vsync', '0', '-frames:v', String(opts.maxFrames),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  opts.signal?.addEventListener('abort', kill, { once: true });
  const frameBytes = width * height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === frameBytes) {
          yield frame;
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    const code = await exited;
    opts.signal?.throwIfAborted();
    if (spawnError) throw new InputMediaError(`could not run ffmpeg: ${spawnError.message}`, { cause: spawnError });
    const tail = stderrTail(stderr, 4).replaceAll(path, '<input>');
    if (code !== 0) throw new InputMediaError(`could not be decoded by ffmpeg (exit ${code})${tail ? `: ${tail.replace(/\n/g, '; ')}` : ''}`, { stderrTail: tail });
    if (filled !== 0) throw new InputMediaError(`ended inside a frame (${filled} of ${frameBytes} bytes)`, { stderrTail: tail });
  } finally {
    opts.signal?.removeEventListener('abort', kill);
    kill();
  }
}
