// Original file: proto/propeller/v1/jobs.proto


export interface LayoutSpec {
  /**
   * Zero means the model's native window.
   */
  'chunkFrames'?: (number);
  /**
   * Overlaps in latent frames / pixels; unset means the default (8 / 16),
   * 0 means isolated windows.
   */
  'chunkOverlap'?: (number);
  'tileSize'?: (number);
  'tileOverlap'?: (number);
  /**
   * "gaussian" (default) | "linear" | "uniform" | "cosine"
   */
  'blend'?: (string);
  /**
   * Initial noise: "independent" (default) | "freenoise" (each chunk's noise
   * is a shuffled copy of the noise one native window earlier).
   */
  'noiseInit'?: (string);
  '_chunkOverlap'?: "chunkOverlap";
  '_tileOverlap'?: "tileOverlap";
}

export interface LayoutSpec__Output {
  /**
   * Zero means the model's native window.
   */
  'chunkFrames': (number);
  /**
   * Overlaps in latent frames / pixels; unset means the default (8 / 16),
   * 0 means isolated windows.
   */
  'chunkOverlap'?: (number);
  'tileSize': (number);
  'tileOverlap'?: (number);
  /**
   * "gaussian" (default) | "linear" | "uniform" | "cosine"
   */
  'blend': (string);
  /**
   * Initial noise: "independent" (default) | "freenoise" (each chunk's noise
   * is a shuffled copy of the noise one native window earlier).
   */
  'noiseInit': (string);
  '_chunkOverlap'?: "chunkOverlap";
  '_tileOverlap'?: "tileOverlap";
}
