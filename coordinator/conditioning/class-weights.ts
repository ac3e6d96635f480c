import type { DenoiserManifest } from '../../common/manifest.ts';
import type { ConditioningTensor, WindowConditioning } from '../layout/window-work.ts';

/**
 * Class weights [K] as a conditioning tensor: float32 on the wire whatever
 * the latents' dtype, since float16 would round them (1/6).
 */
export function classWeightsTensor(weights: Float32Array): ConditioningTensor {
  return { data: weights, shape: [weights.length], exact: true };
}

/** A window's conditioning of a class-conditioned model: its class weights under the graph input the manifest names. */
export function classWeightsConditioning(m: DenoiserManifest, weights: Float32Array): WindowConditioning {
  return { cond: m.inputs.classWeights ? { [m.inputs.classWeights]: classWeightsTensor(weights) } : {} };
}
