/**
 * Public surface of the sampling layer: prediction types, the scheduler
 * contract, the schedulers (DDIM, DDPM, Euler, flow Euler) and their
 * registry, the offset (SDEdit) scheduler, the sequential engine, step noise
 * and sampler checkpoints.
 */
export {
  PREDICTION_TYPES,
  epsFromX0,
  flowNoiseLevel,
  toX0,
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
export { VP_PREDICTION_TYPES } from './config-fields.ts';
export {
  DDPM_VARIANCE_TYPES,
  DEFAULT_DDPM_CONFIG,
  parseDdpmConfig,
  type DdpmConfig,
  type DdpmConfigInput,
  type DdpmVarianceType,
} from './ddpm-config.ts';
export { DDPM_MIN_VARIANCE, DdpmScheduler, type DdpmStepCoefficients } from './ddpm.ts';
export {
  DEFAULT_EULER_CONFIG,
  EULER_FINAL_SIGMAS,
  parseEulerConfig,
  type EulerConfig,
  type EulerConfigInput,
  type EulerFinalSigmas,
} from './euler-config.ts';
export { interpAtTimestep, karrasSigmas, linspaceTimesteps, sigmaToT, trainingSigmas } from './euler-sigmas.ts';
export { EulerScheduler } from './euler.ts';
export {
  DEFAULT_FLOW_EULER_CONFIG,
  parseFlowEulerConfig,
  type FlowEulerConfig,
  type FlowEulerConfigInput,
} from './flow-euler-config.ts';
export { FlowEulerScheduler, flowSigmas, shiftSigma } from './flow-euler.ts';
export { modelInput, modelInputLevel, modelOutputToX0Eps } from './model-output.ts';
export {
  SCHEDULER_KINDS,
  createScheduler,
  parseSchedulerKind,
  type SchedulerByKind,
  type SchedulerKind,
} from './registry.ts';
export { STEP_NOISE_STREAM_BASE, stepNoise, type StepNoiseFn } from './step-noise.ts';
export { sampleSequential, type DenoiseFn, type DenoiseHints, type SequentialOptions, type SequentialState } from './sequential.ts';
export { samplePipelined, type PipelinedOptions } from './pipelined-sequential.ts';
export { CHECKPOINT_MAGIC, CheckpointError, checkpointStep, decodeSamplerCheckpoint, encodeSamplerCheckpoint, type SamplerCheckpoint } from './checkpoint.ts';
export { OffsetScheduler, offsetScheduler, skippedSteps } from './offset-scheduler.ts';
