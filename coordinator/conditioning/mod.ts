/**
 * What a job conditions its windows on: job tensors checked at Submit,
 * class weights, embeddings, prompts, time ids and image latents formed per
 * window at render, and classifier-free guidance (see job-conditioning.ts).
 */
export { JobConditioning, inputImageLatent, segmentWeights, type JobConditioningOptions } from './job-conditioning.ts';
export { MAX_JOB_TENSOR_ELEMENTS, loadTensor, storeTensor, validateJobConditioning, type StoredTensor } from './job-tensors.ts';
export { resolveGuidance } from './guidance.ts';
export { classWeightsConditioning, classWeightsTensor } from './class-weights.ts';
