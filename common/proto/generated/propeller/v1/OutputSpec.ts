// Original file: proto/propeller/v1/jobs.proto


export interface OutputSpec {
  /**
   * "mp4" (default) | "webm" | "latent"
   */
  'format'?: (string);
  'crf'?: (number);
}

export interface OutputSpec__Output {
  /**
   * "mp4" (default) | "webm" | "latent"
   */
  'format': (string);
  'crf': (number);
}
