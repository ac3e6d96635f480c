/**
 * Public surface of the sampling layer: prediction types, the scheduler
 * contract, DDIM, the sequential engine and step noise.
 */
export {
  PREDICTION_TYPES,
  epsFromX0,
  flowNoiseLevel,
  toX0,
  toX0Eps,
  vpNoiseLevel,
  type Denoised,
  type NoiseLevel,
  type PredictionType,
} from './prediction.ts';
export { addScaledNoise, checkStepIndex, type Scheduler } from './scheduler.ts';
export { SchedulerConfigError } from './errors.ts';
export { TIMESTEP_SPACINGS, roundHalfEven, spacedTimesteps, type TimestepSpacing } from './timestep-spacing.ts';
export {
  DEFAULT_DDIM_CONFIG,
  parseDdimConfig,
  type DdimConfig,
  type DdimConfigInput,
  type VpPredictionType,
} from './ddim-config.ts';
export { DdimScheduler, type DdimStepCoefficients } from './ddim.ts';
export { STEP_NOISE_STREAM_BASE, stepNoise, type StepNoiseFn } from './step-noise.ts';
export { sampleSequential, type DenoiseFn, type SequentialOptions } from './sequential.ts';
