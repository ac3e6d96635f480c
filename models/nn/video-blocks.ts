import type { TrainSchedule } from '../../common/noise-schedule.ts';
import { noiseLevelGraph } from '../field-mixture/noise-graph.ts';
import type { Layers } from './layers.ts';

/**
 * Video blocks of the stand-in UNets, on activations [B, C, F, H, W] with a
 * static window (F, H, W known at build time, B dynamic), shaped after
 * diffusers' UNet3DConditionModel / AnimateDiff motion modules / SVD's
 * spatio-temporal blocks.
 */

/** Static extent of an activation: channels and the window it covers. */
export interface Extent {
  channels: number;
  frames: number;
  height: number;
  width: number;
}

/** Gain of the last projection of every residual branch (see layers.ts). */
export const RESIDUAL_GAIN = 0.3;

/** GroupNorm groups for `channels` (32 as in diffusers, fewer for narrow layers). */
export function groupsFor(channels: number): number {
  for (const g of [32, 16, 8, 4, 2]) if (channels % g === 0 && channels / g >= 2) return g;
  return 1;
}

/**
 * ResNet block (spatial, kernel 1x3x3): GN, SiLU, conv, + time embedding,
 * GN, SiLU, conv, + skip (1x1x1 conv when the width changes).
 */
export function resBlock(L: Layers, x: string, cin: number, cout: number, temb: string, tembDim: number): string {
  const g = L.g;
  let h = L.conv3d(L.silu(L.groupNorm(x, cin, groupsFor(cin), 5)), cin, cout, [1, 3, 3]);
  const t = g.op('Reshape', [L.linear(L.silu(temb), tembDim, cout), L.ints('temb_shape', [0, cout, 1, 1, 1])]);
  h = g.op('Add', [h, t]);
  h = L.conv3d(L.silu(L.groupNorm(h, cout, groupsFor(cout), 5)), cout, cout, [1, 3, 3], { gain: RESIDUAL_GAIN });
  const skip = cin === cout ? x : L.conv3d(x, cin, cout, [1, 1, 1]);
  return g.op('Add', [skip, h]);
}

/** Temporal convolution layer (ModelScope's TemporalConvLayer): GN, SiLU, conv 3x1x1, residual. */
export function temporalConv(L: Layers, x: string, channels: number): string {
  const h = L.conv3d(L.silu(L.groupNorm(x, channels, groupsFor(channels), 5)), channels, channels, [3, 1, 1], { gain: RESIDUAL_GAIN });
  return L.g.op('Add', [x, h]);
}

/** [B, C, F, H, W] -> spatial tokens [B, F, H*W, C]. */
export function toSpatialTokens(L: Layers, x: string, e: Extent): string {
  const t = L.g.op('Transpose', [x], { perm: [0, 2, 3, 4, 1] });
  return L.g.op('Reshape', [t, L.ints('spatial_tokens', [0, e.frames, e.height * e.width, e.channels])]);
}

/** Spatial tokens [B, F, H*W, C] -> [B, C, F, H, W]. */
export function fromSpatialTokens(L: Layers, t: string, e: Extent): string {
  const r = L.g.op('Reshape', [t, L.ints('spatial_back', [0, e.frames, e.height, e.width, e.channels])]);
  return L.g.op('Transpose', [r], { perm: [0, 4, 1, 2, 3] });
}

/** [B, C, F, H, W] -> temporal tokens [B, H*W, F, C]. */
export function toTemporalTokens(L: Layers, x: string, e: Extent): string {
  const t = L.g.op('Transpose', [x], { perm: [0, 3, 4, 2, 1] });
  return L.g.op('Reshape', [t, L.ints('temporal_tokens', [0, e.height * e.width, e.frames, e.channels])]);
}

/** Temporal tokens [B, H*W, F, C] -> [B, C, F, H, W]. */
export function fromTemporalTokens(L: Layers, t: string, e: Extent): string {
  const r = L.g.op('Reshape', [t, L.ints('temporal_back', [0, e.height, e.width, e.frames, e.channels])]);
  return L.g.op('Transpose', [r], { perm: [0, 4, 3, 1, 2] });
}

/**
 * Spatial transformer (Transformer2DModel per frame): GN, proj_in, then
 * self-attention, cross-attention on `context` [B, 1, L, D] and a
 * feed-forward, each pre-LayerNorm and residual; proj_out; residual.
 */
export function spatialTransformer(L: Layers, x: string, e: Extent, heads: number, context: string, contextDim: number): string {
  const g = L.g;
  const c = e.channels;
  let t = L.linear(toSpatialTokens(L, L.groupNorm(x, c, groupsFor(c), 5), e), c, c);
  t = g.op('Add', [t, L.attention(L.layerNorm(t, c), c, heads, { outGain: RESIDUAL_GAIN })]);
  t = g.op('Add', [t, L.attention(L.layerNorm(t, c), c, heads, { context, contextDim, outGain: RESIDUAL_GAIN })]);
  t = g.op('Add', [t, L.feedForward(L.layerNorm(t, c), c, RESIDUAL_GAIN)]);
  return g.op('Add', [x, fromSpatialTokens(L, L.linear(t, c, c, RESIDUAL_GAIN), e)]);
}

/**
 * Temporal transformer (AnimateDiff motion module / TransformerTemporalModel):
 * GN, proj_in, sinusoidal frame positions, two self-attentions along the
 * frames of every pixel and a feed-forward; proj_out; residual.
 */
export function temporalTransformer(L: Layers, x: string, e: Extent, heads: number): string {
  const g = L.g;
  const c = e.channels;
  let t = L.linear(toTemporalTokens(L, L.groupNorm(x, c, groupsFor(c), 5), e), c, c);
  const pos = new Float32Array(e.frames * c);
  for (let f = 0; f < e.frames; f++) {
    for (let i = 0; i < c / 2; i++) {
      const w = f / Math.pow(10000, (2 * i) / c);
      pos[f * c + 2 * i] = Math.sin(w);
      pos[f * c + 2 * i + 1] = Math.cos(w);
    }
  }
  t = g.op('Add', [t, g.constant(L.fresh('frame_positions'), pos, [e.frames, c])]);
  t = g.op('Add', [t, L.attention(L.layerNorm(t, c), c, heads, { outGain: RESIDUAL_GAIN })]);
  t = g.op('Add', [t, L.attention(L.layerNorm(t, c), c, heads, { outGain: RESIDUAL_GAIN })]);
  t = g.op('Add', [t, L.feedForward(L.layerNorm(t, c), c, RESIDUAL_GAIN)]);
  return g.op('Add', [x, fromTemporalTokens(L, L.linear(t, c, c, RESIDUAL_GAIN), e)]);
}

/** Prediction types a stand-in can be built for (the manifest's `predictionType`). */
export type StandinPrediction = 'epsilon' | 'sample' | 'v_prediction' | 'flow';

/** How strongly the random network perturbs the prior's posterior mean in the output head. */
export const NETWORK_GAIN = 0.3;

/**
 * Output head shared by the stand-ins. A random network alone would predict
 * noise unrelated to its input, and the sampler's x0 = (x - s eps) / a would
 * then grow like 1/a at high noise. Trained models do not behave that way:
 * at every level they predict close to the posterior mean. So the head adds
 * the random network's output `net` to the exact posterior mean for a
 * standard-normal prior (E[x0 | x_t] = a x_t / (a^2 + s^2),
 * E[eps | x_t] = s x_t / (a^2 + s^2)), scaled so its effect on x0 is at most
 * NETWORK_GAIN * |net|:
 *   epsilon:      s x / v + g a net
 *   sample:       a x / v + g net
 *   v_prediction: (a s - s a) x / v + g net = g net   (x0 = a x - s v)
 *   flow:         (s - a) x / v + g net               (x0 = x - s v)
 * with v = a^2 + s^2, (a, s) the process's levels at the timestep. The
 * random network still does all the compute; samples stay O(1) and finite
 * through any scheduler, which is what the stand-ins are for.
 */
export function predictionHead(L: Layers, sample: string, net: string, timestep: string, schedule: TrainSchedule, prediction: StandinPrediction): string {
  const g = L.g;
  const process = prediction === 'flow' ? 'flow' : 'vp';
  const levels = noiseLevelGraph(g, timestep, schedule, process);
  const b5 = (v: string): string => g.op('Reshape', [v, L.ints('level_shape', [-1, 1, 1, 1, 1])]);
  const a = b5(levels.a);
  const s = b5(levels.s);
  const v = g.op('Add', [g.op('Mul', [a, a]), g.op('Mul', [s, s])]);
  const gain = L.scalar('network_gain', NETWORK_GAIN);
  const scaledNet = g.op('Mul', [net, gain]);
  switch (prediction) {
    case 'epsilon':
      return g.op('Add', [g.op('Div', [g.op('Mul', [s, sample]), v]), g.op('Mul', [a, scaledNet])]);
    case 'sample':
      return g.op('Add', [g.op('Div', [g.op('Mul', [a, sample]), v]), scaledNet]);
    case 'v_prediction':
      return scaledNet;
    case 'flow':
      return g.op('Add', [g.op('Div', [g.op('Mul', [g.op('Sub', [s, a]), sample]), v]), scaledNet]);
  }
}
