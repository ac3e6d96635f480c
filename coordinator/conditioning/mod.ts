/**
 * Extra conditioning of models that take more than a prompt's class
 * weights: job tensors checked at Submit, formed per window at render, and
 * classifier-free guidance (see job-conditioning.ts).
 */
export { JobConditioning, inputImageLatent, segmentWeights, type JobConditioningOptions, type WindowEvalItem } from './job-conditioning.ts';
export { MAX_JOB_TENSOR_ELEMENTS, loadTensor, storeTensor, validateJobConditioning, type StoredTensor } from './job-tensors.ts';
export { resolveGuidance } from './guidance.ts';
