/**
 * The port between the worker's request handling and its model runner: what
 * the runner evaluates per item once a request is decoded and checked
 * (denoiser-service.ts and item-conditioning.ts -> inference.ts).
 */

/** One prompt of a text-encoder input and its share of the mix. */
export interface WeightedPrompt {
  text: string;
  weight: number;
}

/** One denoiser evaluation, validated and decoded to float32. */
export interface DenoiseInput {
  sample: Float32Array;
  timestep: number;
  /**
   * Conditioning inputs by the key of the manifest's conditioning input
   * (class weights under their graph input), each of its per-item shape. A
   * missing one is its default: uniform class weights, zero image latents.
   */
  cond: Map<string, Float32Array>;
  /**
   * Prompts to encode into an embeddings input, by its key (weights
   * non-negative, not all zero); prompt-encoding.ts puts their embedding
   * into `cond`.
   */
  prompts: Map<string, WeightedPrompt[]>;
  /**
   * Classifier-free guidance in one batch: the unconditional inputs by key
   * (missing keys: zeros, or the conditional value for `time_ids`), the
   * negative prompts, and the scale. The item's output is then
   * uncond + scale * (cond - uncond).
   */
  guidance?: { scale: number; uncond: Map<string, Float32Array>; negativePrompts: Map<string, WeightedPrompt[]> };
}
