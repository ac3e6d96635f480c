/**
 * The port the sampling code talks to: model evaluations and VAE calls
 * spread over workers. The dispatcher (dispatcher.ts) is its adapter over
 * gRPC workers; tests and benches may give their own.
 */
import type { WindowWork } from '../layout/window-work.ts';
import type { EvaluateOptions } from './eval-request.ts';

export type { EvaluateOptions } from './eval-request.ts';
export type { WindowWork } from '../layout/window-work.ts';

export interface WorkerPool {
  /** One raw model output per work item, aligned with `items`, each the size of its sample. */
  evaluate(model: string, items: readonly WindowWork[], opts?: EvaluateOptions): Promise<Float32Array[]>;
  /** Latent frames [N, C, h, w] -> RGB frames [N, 3, H, W] (uint8, planar) through the model's decoder. */
  decode(model: string, latents: Float32Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Uint8Array; shape: number[] }>;
  /** RGB frames [N, 3, H, W] (uint8, planar) -> latent frames [N, C, h, w] through the model's encoder. */
  encode(model: string, frames: Uint8Array, shape: readonly number[], signal?: AbortSignal): Promise<{ data: Float32Array; shape: number[] }>;
}
