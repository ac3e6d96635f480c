/**
 * The `Encoder` port: frames in, a video file out. Runners and the CLI know
 * only these types; `FfmpegEncoder` (encoder.ts) is the adapter.
 */

/** What to encode and where. */
export interface VideoEncoderOptions {
  /** Frame width in pixels; must be even (yuv420p output). */
  width: number;
  /** Frame height in pixels; must be even (yuv420p output). */
  height: number;
  /** Frames per second of the output. */
  fps: number;
  /** mp4 = H.264 (libx264); webm = VP9 (libvpx-vp9). */
  format: 'mp4' | 'webm';
  /** Constant rate factor; defaults to 18 (mp4) or 31 (webm). Lower is better quality. */
  crf?: number;
  /** Final file path; it only appears once the encode has succeeded. */
  outputPath: string;
}

/** Summary of a completed encode. */
export interface EncodeResult {
  path: string;
  bytes: number;
  frames: number;
}

/** One video being written, frame by frame. */
export interface FrameSink {
  /**
   * Write one RGB24 frame (width*height*3 bytes, interleaved, row-major).
   * Resolves when ffmpeg's stdin accepted it (respects backpressure); the sink
   * copies the frame, so the caller may reuse its buffer afterwards.
   * Rejects with an {@link EncoderError} on a wrong size, after finish/abort,
   * or once ffmpeg has failed (with its stderr tail).
   */
  writeFrame(rgb: Uint8Array): Promise<void>;
  /** Close stdin, wait for ffmpeg to finish; resolves with {path, bytes, frames}. Idempotent. */
  finish(): Promise<EncodeResult>;
  /** Kill ffmpeg and delete the partial file. Idempotent; a no-op once finish() has produced the file. */
  abort(reason?: Error): Promise<void>;
}

/** Port: opens a sink that turns a stream of frames into a video file. */
export interface Encoder {
  /** @throws {EncoderError} synchronously for invalid options (odd size, bad fps/crf, ...). */
  open(opts: VideoEncoderOptions): FrameSink;
}
