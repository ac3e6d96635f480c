/**
 * Typed errors of the video adapters. Each sets `name`, keeps `cause` and
 * carries the fields a caller needs to decide what to do (which file, which
 * step, what ffmpeg said) without parsing the message.
 */

/** Steps of a `FrameSink`'s life at which an encode can fail. */
export type EncoderOperation = 'open' | 'writeFrame' | 'finish' | 'abort' | 'ffmpeg';

/** Fields of an {@link EncoderError}. */
export interface EncoderErrorFields {
  operation: EncoderOperation;
  /** Final output path the sink was asked to produce. */
  outputPath: string;
  /** Option that failed validation, when the error is about one. */
  field?: string;
  /** Last lines ffmpeg wrote to stderr ('' when ffmpeg never ran). */
  stderrTail?: string;
  /** ffmpeg exit code, when it exited on its own with a failure. */
  exitCode?: number;
  cause?: unknown;
}

/** An encode failed: bad options, a bad frame, misuse of the sink, or ffmpeg itself. */
export class EncoderError extends Error {
  override readonly name = 'EncoderError';
  readonly operation: EncoderOperation;
  readonly outputPath: string;
  readonly field: string | undefined;
  readonly stderrTail: string;
  readonly exitCode: number | undefined;

  constructor(message: string, fields: EncoderErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.operation = fields.operation;
    this.outputPath = fields.outputPath;
    this.field = fields.field;
    this.stderrTail = fields.stderrTail ?? '';
    this.exitCode = fields.exitCode;
  }
}

/** ffprobe could not be run, failed, or described a file without a usable video stream. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  readonly path: string;
  readonly stderrTail: string;

  constructor(message: string, fields: { path: string; stderrTail?: string; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.path = fields.path;
    this.stderrTail = fields.stderrTail ?? '';
  }
}

/** A required binary (ffmpeg, ffprobe) is missing or not executable. */
export class BinaryNotFoundError extends Error {
  override readonly name = 'BinaryNotFoundError';
  readonly binary: string;
  /** Paths that were tried, in order. */
  readonly tried: readonly string[];

  constructor(message: string, fields: { binary: string; tried: readonly string[]; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.binary = fields.binary;
    this.tried = fields.tried;
  }
}

/**
 * Last `maxLines` non-empty lines of ffmpeg's stderr. Unlike fluent-ffmpeg's
 * own summary this keeps `[libx264 @ 0x...]` lines: they usually name the
 * actual problem (bad preset, bad size).
 */
export function stderrTail(stderr: string | undefined, maxLines = 12): string {
  if (!stderr) return '';
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
  return lines.slice(-maxLines).join('\n');
}

/** An uploaded input (image or video) could not be read: not media ffmpeg accepts, no frames, or ffmpeg failed on it. */
export class InputMediaError extends Error {
  override readonly name = 'InputMediaError';
  /** Last lines ffmpeg or ffprobe wrote to stderr ('' when it never ran). */
  readonly stderrTail: string;

  constructor(message: string, fields: { stderrTail?: string; cause?: unknown } = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.stderrTail = fields.stderrTail ?? '';
  }
}
