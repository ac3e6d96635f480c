// Original file: proto/propeller/v1/denoiser.proto

/**
 * What a loaded model is (its manifest's `kind`).
 */
export const ModelKind = {
  /**
   * The manifest did not load (ModelInfo.available is false).
   */
  MODEL_KIND_UNSPECIFIED: 'MODEL_KIND_UNSPECIFIED',
  MODEL_KIND_DENOISER: 'MODEL_KIND_DENOISER',
  /**
   * A VAE decoder: latent frames -> RGB frames.
   */
  MODEL_KIND_DECODER: 'MODEL_KIND_DECODER',
  /**
   * A VAE encoder: RGB frames -> latent frames.
   */
  MODEL_KIND_ENCODER: 'MODEL_KIND_ENCODER',
  /**
   * Token ids -> prompt embeddings, for a denoiser's `embeddings` input.
   */
  MODEL_KIND_TEXT_ENCODER: 'MODEL_KIND_TEXT_ENCODER',
} as const;

/**
 * What a loaded model is (its manifest's `kind`).
 */
export type ModelKind =
  /**
   * The manifest did not load (ModelInfo.available is false).
   */
  | 'MODEL_KIND_UNSPECIFIED'
  | 0
  | 'MODEL_KIND_DENOISER'
  | 1
  /**
   * A VAE decoder: latent frames -> RGB frames.
   */
  | 'MODEL_KIND_DECODER'
  | 2
  /**
   * A VAE encoder: RGB frames -> latent frames.
   */
  | 'MODEL_KIND_ENCODER'
  | 3
  /**
   * Token ids -> prompt embeddings, for a denoiser's `embeddings` input.
   */
  | 'MODEL_KIND_TEXT_ENCODER'
  | 4

/**
 * What a loaded model is (its manifest's `kind`).
 */
export type ModelKind__Output = typeof ModelKind[keyof typeof ModelKind]
