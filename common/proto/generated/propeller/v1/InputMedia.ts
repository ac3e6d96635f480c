// Original file: proto/propeller/v1/jobs.proto


/**
 * Media a job starts from, uploaded as bytes (never a server path).
 */
export interface InputMedia {
  /**
   * A video (any container ffmpeg reads) or a single image.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Optional hint: "video" | "image"; detected from the data when empty.
   */
  'kind'?: (string);
}

/**
 * Media a job starts from, uploaded as bytes (never a server path).
 */
export interface InputMedia__Output {
  /**
   * A video (any container ffmpeg reads) or a single image.
   */
  'data': (Buffer);
  /**
   * Optional hint: "video" | "image"; detected from the data when empty.
   */
  'kind': (string);
}
