/**
 * The ffmpeg adapter of the `Encoder` port (encoder-port.ts: frames in, a video file out).
 *
 * Runners and the CLI only know `Encoder` / `FrameSink`; fluent-ffmpeg and the
 * ffmpeg binary are touched by `FfmpegEncoder` alone. Frames stream through
 * ffmpeg's stdin one at a time, so memory stays at a few frames whatever the
 * video length.
 */
import { once } from 'node:events';
import { rename, rm, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { resolveBinary } from './binaries.ts';
import { EncoderError, stderrTail } from './errors.ts';
import type { EncoderOperation } from './errors.ts';
import { DEFAULT_X264_PRESET, compileEncoderOptions, inputArgs, outputArgs } from './ffmpeg-args.ts';
import type { CompiledEncoderOptions } from './ffmpeg-args.ts';
import type { Encoder, EncodeResult, FrameSink, VideoEncoderOptions } from './encoder-port.ts';

export { float01ToRgb24 } from './rgb.ts';
export { EncoderError } from './errors.ts';
export type { Encoder, EncodeResult, FrameSink, VideoEncoderOptions } from './encoder-port.ts';

/** Settings of {@link FfmpegEncoder}. */
export interface FfmpegEncoderOptions {
  /** ffmpeg binary; defaults to `@ffmpeg-installer/ffmpeg`, then /usr/bin/ffmpeg. */
  ffmpegPath?: string;
  /** libx264 preset (mp4 only); default 'veryfast'. Unknown names fail in ffmpeg, with its message. */
  preset?: string;
}

/** Lines of ffmpeg stderr kept in memory (fluent-ffmpeg's ring buffer). */
const STDERR_RING_LINES = 40;

/** `Encoder` backed by an ffmpeg child process per video, driven by fluent-ffmpeg. */
export class FfmpegEncoder implements Encoder {
  private readonly ffmpegPath: string | undefined;
  private readonly preset: string;

  constructor(opts: FfmpegEncoderOptions = {}) {
    const preset = opts.preset ?? DEFAULT_X264_PRESET;
    // fluent-ffmpeg splits option strings on a single space, so a preset must be one token.
    if (!/^[A-Za-z0-9_-]+$/.test(preset)) throw new RangeError(`invalid x264 preset ${JSON.stringify(preset)}`);
    this.preset = preset;
    this.ffmpegPath = opts.ffmpegPath;
  }

  open(opts: VideoEncoderOptions): FrameSink {
    const compiled = compileEncoderOptions(opts);
    const ffmpegPath = resolveBinary('ffmpeg', this.ffmpegPath);
    return new FfmpegFrameSink(compiled, ffmpegPath, this.preset);
  }
}

type SinkState = 'open' | 'finishing' | 'finished' | 'aborted';

/**
 * One ffmpeg process. Lifecycle: open -> finishing -> finished, with abort
 * possible from open/finishing; an ffmpeg failure is recorded in `failure`
 * and ends every later call.
 */
class FfmpegFrameSink implements FrameSink {
  private state: SinkState = 'open';
  private frames = 0;
  private running = false;
  private exited = false;
  private killRequested = false;
  private failure: EncoderError | undefined;
  private abortReason: Error | undefined;
  private finishing: Promise<EncodeResult> | undefined;
  private aborting: Promise<void> | undefined;
  private readonly input: PassThrough;
  private readonly command: ffmpeg.FfmpegCommand;
  /**
   * Resolves once ffmpeg is gone (process reaped, stderr drained) and, on
   * failure, the partial file removed; carries the failure. Never rejects.
   */
  private readonly done: Promise<EncoderError | undefined>;

  constructor(
    private readonly c: CompiledEncoderOptions,
    ffmpegPath: string,
    preset: string,
  ) {
    // Two frames of slack: enough to overlap the caller's next frame with
    // ffmpeg reading this one, without buffering the video.
    this.input = new PassThrough({ highWaterMark: 2 * c.frameBytes });
    // fluent-ffmpeg attaches its own 'error' listener only after spawning;
    // without this one a stream error before that would crash the process.
    this.input.on('error', () => {});

    this.command = ffmpeg({ stdoutLines: STDERR_RING_LINES })
      // Note: fluent-ffmpeg stores this path module-wide, not per command.
      .setFfmpegPath(ffmpegPath)
      .input(this.input)
      .inputFormat('rawvideo')
      .inputOptions(inputArgs(c))
      .output(c.partialPath)
      .outputOptions(outputArgs(c, preset));

    this.command.on('start', () => {
      this.running = true;
      // abort() raced the spawn: kill as soon as there is a process to kill.
      if (this.killRequested) this.command.kill('SIGKILL');
    });
    const ended = new Promise<EncoderError | undefined>((resolve) => {
      // fluent-ffmpeg emits exactly one of these, after the process exited and stderr closed.
      this.command.once('end', () => resolve(undefined));
      this.command.once('error', (err: Error, _stdout?: string, stderr?: string) =>
        resolve(this.ffmpegError(err, stderr)),
      );
    });
    this.done = ended.then(async (err) => {
      this.exited = true;
      this.running = false;
      if (err === undefined) return undefined;
      this.failure ??= err;
      this.input.destroy();
      // A failed encode must never leave a file that looks usable.
      await rm(c.partialPath, { force: true }).catch(() => {});
      return err;
    });
    this.command.run();
  }

  async writeFrame(rgb: Uint8Array): Promise<void> {
    // Checked before any await: a concurrent abort()/finish() must not slip a frame in.
    const closed = this.closedError('writeFrame');
    if (closed !== undefined) return this.reject(closed);
    if (!(rgb instanceof Uint8Array) || rgb.byteLength !== this.c.frameBytes) {
      const got = rgb instanceof Uint8Array ? `${rgb.byteLength} bytes` : typeof rgb;
      throw this.usageError(
        'writeFrame',
        `frame ${this.frames} has ${got}, expected ${this.c.width}x${this.c.height}x3 = ${this.c.frameBytes} bytes of RGB24`,
      );
    }
    // Copy: the stream holds the chunk until ffmpeg reads it, and callers
    // typically refill the same buffer for the next frame.
    const accepted = this.input.write(Buffer.from(rgb));
    this.frames++;
    if (!accepted) await this.waitForDrain();
  }

  finish(): Promise<EncodeResult> {
    this.finishing ??= this.doFinish();
    return this.finishing;
  }

  abort(reason?: Error): Promise<void> {
    this.aborting ??= this.doAbort(reason);
    return this.aborting;
  }

  private async doFinish(): Promise<EncodeResult> {
    // Runs synchronously up to `state = 'finishing'`, so an abort() right after finish() is seen below.
    const closed = this.closedError('finish');
    if (closed !== undefined) return this.reject(closed);
    if (this.frames === 0) {
      await this.abort(new Error('finish() before any frame'));
      throw this.usageError('finish', 'finish() called before any frame was written: nothing to encode');
    }
    this.state = 'finishing';
    this.input.end();
    const err = await this.done;
    // abort() may have run while we waited (TS narrowed `state` at the assignment above).
    if (this.isAborted()) {
      await rm(this.c.partialPath, { force: true }).catch(() => {});
      throw this.abortedError('finish');
    }
    if (err !== undefined) throw err;
    try {
      await rename(this.c.partialPath, this.c.outputPath);
      const { size } = await stat(this.c.outputPath);
      this.state = 'finished';
      return { path: this.c.outputPath, bytes: size, frames: this.frames };
    } catch (cause) {
      await rm(this.c.partialPath, { force: true }).catch(() => {});
      this.failure = new EncoderError(`could not move ${this.c.partialPath} to ${this.c.outputPath}`, {
        operation: 'finish',
        outputPath: this.c.outputPath,
        cause,
      });
      throw this.failure;
    }
  }

  private async doAbort(reason: Error | undefined): Promise<void> {
    if (this.state === 'finished') return;
    if (this.state === 'finishing' && this.exited && this.failure === undefined) {
      // ffmpeg already completed and finish() is moving the file into place: too late to abort.
      await this.finishing?.catch(() => {});
      return;
    }
    this.state = 'aborted';
    this.abortReason = reason;
    this.killRequested = true;
    if (this.running && !this.exited) this.command.kill('SIGKILL');
    // Waiting for exit is what guarantees no orphan or zombie ffmpeg.
    await this.done;
    this.input.destroy();
    await rm(this.c.partialPath, { force: true }).catch(() => {});
  }

  /** Backpressure: wait until the stream wants more, or ffmpeg is gone. */
  private async waitForDrain(): Promise<void> {
    const stop = new AbortController();
    try {
      const outcome = await Promise.race([
        once(this.input, 'drain', { signal: stop.signal }).then(() => 'drained' as const),
        this.done.then(() => 'exited' as const),
      ]);
      if (outcome === 'exited') {
        await this.reject(this.closedError('writeFrame') ?? this.usageError('writeFrame', 'ffmpeg exited early'));
      }
    } finally {
      stop.abort();
    }
  }

  private isAborted(): boolean {
    return this.state === 'aborted';
  }

  /** Why `operation` cannot proceed: the sink aborted, failed, or is finishing/finished. */
  private closedError(operation: EncoderOperation): EncoderError | undefined {
    if (this.state === 'aborted') return this.abortedError(operation);
    if (this.failure !== undefined) return this.failure;
    if (this.state !== 'open') return this.usageError(operation, `${operation}() after finish()`);
    return undefined;
  }

  /** Throw `err`; an ffmpeg failure only once its cleanup is done, so the caller sees the final disk state. */
  private async reject(err: EncoderError): Promise<never> {
    if (err === this.failure) await this.done;
    throw err;
  }

  private usageError(operation: EncoderOperation, message: string): EncoderError {
    return new EncoderError(`${message} (${this.c.outputPath})`, { operation, outputPath: this.c.outputPath });
  }

  private abortedError(operation: EncoderOperation): EncoderError {
    const why = this.abortReason ? `: ${this.abortReason.message}` : '';
    return new EncoderError(`encode of ${this.c.outputPath} was aborted${why}`, {
      operation,
      outputPath: this.c.outputPath,
      cause: this.abortReason,
    });
  }

  /** Turn fluent-ffmpeg's error into one that says which file, why, and what ffmpeg printed. */
  private ffmpegError(err: Error, stderr: string | undefined): EncoderError {
    const tail = stderrTail(stderr);
    const code = /ffmpeg exited with code (\d+)/.exec(err.message);
    const exitCode = code ? Number(code[1]) : undefined;
    // fluent-ffmpeg appends a filtered stderr excerpt after ': '; we quote the raw tail instead.
    const reason = exitCode !== undefined ? `ffmpeg exited with code ${exitCode}` : err.message;
    const message = `ffmpeg failed encoding ${this.c.outputPath} (${reason})` + (tail ? `:\n${tail}` : '');
    return new EncoderError(message, {
      operation: 'ffmpeg',
      outputPath: this.c.outputPath,
      stderrTail: tail,
      ...(exitCode !== undefined ? { exitCode } : {}),
      cause: err,
    });
  }
}
