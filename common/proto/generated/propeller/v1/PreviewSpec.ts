// Original file: proto/propeller/v1/jobs.proto


/**
 * How often and how large the job's live previews are.
 */
export interface PreviewSpec {
  /**
   * Least time between two previews; unset means 5 s, 0 means after every
   * step that finds no preview still being made.
   */
  'everySeconds'?: (number | string);
  /**
   * Frames side by side in a preview strip, evenly spaced over the video
   * (1..16); 0 means 4.
   */
  'frames'?: (number);
  /**
   * Width of a preview image in pixels (64..512); 0 means 512.
   */
  'width'?: (number);
  /**
   * "auto" (default: the model's preview colour map when its manifest
   * declares one, else its decoder) | "map" | "decoder" (the VAE's Decode
   * on the preview's frames: the true colours, at a worker's cost).
   */
  'source'?: (string);
  '_everySeconds'?: "everySeconds";
}

/**
 * How often and how large the job's live previews are.
 */
export interface PreviewSpec__Output {
  /**
   * Least time between two previews; unset means 5 s, 0 means after every
   * step that finds no preview still being made.
   */
  'everySeconds'?: (number);
  /**
   * Frames side by side in a preview strip, evenly spaced over the video
   * (1..16); 0 means 4.
   */
  'frames': (number);
  /**
   * Width of a preview image in pixels (64..512); 0 means 512.
   */
  'width': (number);
  /**
   * "auto" (default: the model's preview colour map when its manifest
   * declares one, else its decoder) | "map" | "decoder" (the VAE's Decode
   * on the preview's frames: the true colours, at a worker's cost).
   */
  'source': (string);
  '_everySeconds'?: "everySeconds";
}
