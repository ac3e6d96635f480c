/**
 * Public surface of the layout layer: planning windows over a large latent,
 * blend weights, merging, and the composite (windowed) denoiser.
 */
export { AXES, windowStart, type Axis, type LatentDims, type LatentSize, type Window } from './types.ts';
export { LayoutError } from './errors.ts';
export { planAxis, planWindows } from './planner.ts';
export {
  BLEND_KINDS,
  axisProfile,
  blendProfiles,
  denseWeights,
  rampShape,
  type BlendKind,
  type BlendProfile,
} from './blend.ts';
export { Merger, checkWindowInside, extractWindow, windowLength } from './merge.ts';
export {
  CompositeDenoiser,
  type CompositeDenoiserOptions,
  type EvaluateWindows,
} from './composite-denoiser.ts';
export { workShape, type ConditioningTensor, type NamedConditioning, type NamedPrompts, type WeightedPrompt, type WindowConditioning, type WindowWork } from './window-work.ts';
export {
  FREENOISE_STREAM_BASE,
  NOISE_INITS,
  applyFrameSources,
  freeNoiseSources,
  independentNoise,
  initialNoise,
  type FreeNoiseLayout,
  type NoiseInit,
} from './noise-init.ts';
export { boundaryChanges, median, seamMetrics, seamRatio, windowEdges, type SeamMetrics } from './seams.ts';
