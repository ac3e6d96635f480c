// Original file: proto/propeller/v1/denoiser.proto


export interface ModelInfo {
  'name'?: (string);
  /**
   * "denoiser" | "decoder" | "encoder"
   */
  'kind'?: (string);
  /**
   * manifest.json as loaded, so the coordinator plans with the worker's view.
   */
  'manifestJson'?: (string);
  /**
   * False when the model failed to load; reason says why.
   */
  'available'?: (boolean);
  'reason'?: (string);
}

export interface ModelInfo__Output {
  'name': (string);
  /**
   * "denoiser" | "decoder" | "encoder"
   */
  'kind': (string);
  /**
   * manifest.json as loaded, so the coordinator plans with the worker's view.
   */
  'manifestJson': (string);
  /**
   * False when the model failed to load; reason says why.
   */
  'available': (boolean);
  'reason': (string);
}
