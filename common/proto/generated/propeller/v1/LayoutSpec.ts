// Original file: proto/propeller/v1/jobs.proto


export interface LayoutSpec {
  /**
   * Zero means the model's native window / the default overlap.
   */
  'chunkFrames'?: (number);
  'chunkOverlap'?: (number);
  'tileSize'?: (number);
  'tileOverlap'?: (number);
  /**
   * "linear" (default) | "uniform" | "cosine" | "gaussian"
   */
  'blend'?: (string);
}

export interface LayoutSpec__Output {
  /**
   * Zero means the model's native window / the default overlap.
   */
  'chunkFrames': (number);
  'chunkOverlap': (number);
  'tileSize': (number);
  'tileOverlap': (number);
  /**
   * "linear" (default) | "uniform" | "cosine" | "gaussian"
   */
  'blend': (string);
}
