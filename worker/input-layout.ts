/**
 * How the worker lays its inputs out for a model (inference.ts): batches of
 * samples packed or assembled in the graph's layout with image latents,
 * float16 and timestep tensors, and the tiled VAE's tiles and blend ramps.
 */
import * as ort from 'onnxruntime-node';
import { conditioningKey, type ConditioningInput, type DenoiserManifest } from '../common/manifest.ts';
import { floatsToHalves } from '../common/tensor-codec.ts';
import { axisStarts } from '../common/tiling.ts';
import type { DenoiseInput } from './denoise-input.ts';
import type { TimestepType } from './graph-contract.ts';

/**
 * The items' samples as one `[b * per]` view when they lie back to back in
 * one buffer (in order, `per` elements each); undefined otherwise.
 */
export function packedSamples(items: readonly Pick<DenoiseInput, 'sample'>[], per: number): Float32Array | undefined {
  const first = items[0]?.sample;
  if (!first) return undefined;
  for (let i = 0; i < items.length; i++) {
    const s = items[i]!.sample;
    if (s.buffer !== first.buffer || s.length !== per || s.byteOffset !== first.byteOffset + i * per * 4) return undefined;
  }
  return new Float32Array(first.buffer, first.byteOffset, items.length * per);
}

/** Whether the manifest needs nothing beyond sample, timestep and class weights in float32, channels first. */
export function isPlain(m: DenoiserManifest): boolean {
  return (m.conditioning ?? []).length === 0 && m.sampleLayout !== 'BFCHW' && m.dtype !== 'float16';
}

export interface SampleGeometry {
  C: number;
  F: number;
  H: number;
  W: number;
  /** Channels of the graph's sample: C plus concatenated image latents. */
  channels: number;
  frameFirst: boolean;
}

/**
 * The sample input of `rows` rows (row r is item r mod b): each item's latent
 * [C, F, H, W], then every image latent [c, H, W] repeated over the frames
 * (zeros where `valueOf` has none), in the graph's layout.
 */
export function assembleSample(
  chunk: readonly DenoiseInput[],
  rows: number,
  g: SampleGeometry,
  conds: readonly ConditioningInput[],
  valueOf: (row: number, key: string, source: ConditioningInput['source']) => Float32Array | undefined,
): Float32Array {
  const { C, F, H, W, channels, frameFirst } = g;
  const HW = H * W;
  const out = new Float32Array(rows * channels * F * HW);
  const b = chunk.length;
  // Offset of (row, channel, frame) in the output, per layout.
  const at = (r: number, c: number, f: number): number => (frameFirst ? ((r * F + f) * channels + c) * HW : ((r * channels + c) * F + f) * HW);
  for (let r = 0; r < rows; r++) {
    const x = chunk[r % b]!.sample;
    for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) out.set(x.subarray((c * F + f) * HW, (c * F + f + 1) * HW), at(r, c, f));
    let next = C;
    for (const cond of conds) {
      if (cond.source !== 'image_latent') continue;
      const img = valueOf(r, conditioningKey(cond), cond.source);
      if (img) for (let c = 0; c < cond.channels; c++) for (let f = 0; f < F; f++) out.set(img.subarray(c * HW, (c + 1) * HW), at(r, next + c, f));
      next += cond.channels;
    }
  }
  return out;
}

/** A [rows, F, C, H, W] output as [rows, C, F, H, W]. */
export function framesFirstToChannelsFirst(out: Float32Array, g: { C: number; F: number; H: number; W: number }): Float32Array {
  const { C, F, H, W } = g;
  const HW = H * W;
  const rows = out.length / (C * F * HW);
  const res = new Float32Array(rows * C * F * HW);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) res.set(out.subarray(((r * F + f) * C + c) * HW, ((r * F + f) * C + c + 1) * HW), ((r * C + c) * F + f) * HW);
  }
  return res;
}

/** A float tensor for ONNX Runtime, as float16 when the model takes it. */
export function floatTensor(data: Float32Array, dims: readonly number[], half: boolean): ort.Tensor {
  if (!half) return new ort.Tensor('float32', data, dims);
  const h = new Uint16Array(data.length);
  floatsToHalves(data, h);
  return new ort.Tensor('float16', h, dims);
}

/** The timestep input in the graph's type. */
export function timestepTensor(values: readonly number[], type: TimestepType): ort.Tensor {
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(Math.round(v)))), [values.length]);
  return floatTensor(Float32Array.from(values), [values.length], type === 'float16');
}

/** Tile start offsets along one axis (common/tiling.ts). */
export const tileStarts = axisStarts;

/** Blend weights along a tile of `n` outputs: linear ramps of `ramp` samples at inner edges, full at frame borders. */
export function rampWeights(n: number, ramp: number, startsAtBorder: boolean, endsAtBorder: boolean): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 1;
    if (!startsAtBorder && ramp > 0) v = Math.min(v, (i + 0.5) / ramp);
    if (!endsAtBorder && ramp > 0) v = Math.min(v, (n - i - 0.5) / ramp);
    out[i] = Math.max(v, 1e-3);
  }
  return out;
}
