/**
 * Public surface of the masked modes (image_to_video, video_to_video,
 * extend, expand): known regions and their masks, the masked denoiser, the
 * placement of an input on the canvas, and the input -> known latent step.
 */
export { axisSupport, checkRegion, maskOf, pasteKnown, visitKnown, type AxisSupport, type KnownRegion, type LatentBox } from './known-region.ts';
export { applyKnownToInitial, HARMONISE_EVALUATIONS, HARMONISE_RELAXATION, maskedDenoiser, type HarmoniseOptions } from './masked-denoiser.ts';
export { containedRect, type ContainedRect } from './geometry.ts';
export { ENCODE_BATCH_BYTES, FEATHER, prepareInput, type EncodeFrames, type PrepareInputOptions, type PreparedInput } from './prepare-input.ts';
