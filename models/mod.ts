/**
 * Public surface of the reference models (DESIGN.md section 5).
 *
 * Workers and the CLI need only `ensureReferenceModels` (and
 * `ensureStandinModels` for the random-weight stand-ins of real video
 * models: tiny-unet3d, tiny-dit, tiny-svd); tests and benches
 * use the float64 reference of the field mixture to measure sample quality
 * exactly (likelihoods, responsibilities, posterior means).
 */
export { GraphBuilder, GraphBuildError, type AttrValue, type DType, type Dim, type ModelOptions } from './onnx-graph.ts';
export {
  BUILDER_VERSION,
  DEFAULT_MODEL_CACHE,
  DEFAULT_STANDIN_CACHE,
  REFERENCE_MODEL_NAMES,
  STANDIN_MODEL_NAMES,
  buildReferenceModel,
  ensureReferenceModels,
  ensureStandinModels,
  isStandinModel,
  referenceModelFingerprint,
  type BuiltModelName,
  type ReferenceModelName,
  type StandinModelName,
} from './registry.ts';
export { TINY_UNET3D, buildTinyUnet3dModel, tinyUnet3dManifest, type TinyUnet3dConfig } from './tiny-unet3d/build.ts';
export { TINY_DIT, buildTinyDitModel, tinyDitManifest, type TinyDitConfig } from './tiny-dit/build.ts';
export { TINY_SVD, buildTinySvdModel, tinySvdManifest, type TinySvdConfig } from './tiny-svd/build.ts';
export {
  FIELD_CLASSES,
  FIELD_COMPONENTS,
  FIELD_WINDOW,
  FIELD_WINDOW_SIZE,
  type FieldComponent,
  type FieldWindow,
} from './field-mixture/components.ts';
export {
  buildFieldMixtureModel,
  fieldMixtureManifest,
  fieldMixtureModelName,
  type FieldMixtureSpec,
} from './field-mixture/build.ts';
export {
  FLOW_T_MAX,
  FLOW_T_MIN,
  logSigmas,
  noiseLevelAt,
  noiseLevels,
  type NoiseLevel,
  type NoiseLevels,
  type NoiseProcess,
} from './field-mixture/tables.ts';
export {
  FieldMixtureReference,
  fieldMixtureReference,
  logLikelihood,
  meanNll,
  normaliseClassWeights,
  posterior,
  responsibilities,
  samplePrior,
  type FieldPosterior,
} from './field-mixture/reference.ts';
export { fieldEigenvalues, fieldSpectrum } from './field-mixture/spectrum.ts';
export { colourToLatent, latentToColour } from './field-vae/colour-map.ts';
export {
  FIELD_VAE_SCALE,
  buildFieldDecoderModel,
  buildFieldEncoderModel,
  fieldDecoderManifest,
  fieldEncoderManifest,
} from './field-vae/build.ts';
