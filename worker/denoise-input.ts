/** What the worker's model runner evaluates per item, once a request is decoded (denoiser-service.ts -> inference.ts). */

/** Prompts of one input of one item, as sent. */
export interface ItemPrompts {
  texts: string[];
  weights: number[];
}

/** One denoiser evaluation, validated and decoded to float32. */
export interface DenoiseInput {
  sample: Float32Array;
  timestep: number;
  /** Class weights [K] (reference models); undefined means uniform. */
  classWeights?: Float32Array;
  /** Extra conditioning by wire key (see `conditioningKey`), each of its per-item shape. */
  conditioning?: ReadonlyMap<string, Float32Array>;
  /**
   * Classifier-free guidance in one batch: the unconditional inputs by wire
   * key (missing keys: zeros, or the conditional value for `time_ids`) and
   * the scale. The item's output is then uncond + scale * (cond - uncond).
   */
  guidance?: { scale: number; uncond: ReadonlyMap<string, Float32Array>; uncondPrompts?: ReadonlyMap<string, string> };
  /** Prompts to encode into an embeddings input (prompt-encoding.ts), by graph input. */
  prompts?: ReadonlyMap<string, ItemPrompts>;
}
