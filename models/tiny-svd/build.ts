import type { DenoiserManifest } from '../../common/manifest.ts';
import { standinDenoiserManifest } from '../tiny-standin.ts';
import { DEFAULT_TRAIN_SCHEDULE } from '../../common/noise-schedule.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { Layers } from '../nn/layers.ts';
import { predictionHead } from '../nn/video-blocks.ts';
import { unet3dBody } from '../tiny-unet3d/build.ts';

/**
 * `tiny-svd`: a random-weight stand-in with the interface of Stable Video
 * Diffusion's `UNetSpatioTemporalConditionModel` exported to ONNX in float16
 * (`unet.half()`), frames before channels:
 *
 *   sample                [B, F, 8, H, W]  float16: 4 noisy latent channels
 *                                           + 4 channels of the conditioning
 *                                           image's latent, repeated over frames
 *   timestep              [B]              float32
 *   encoder_hidden_states [B, 1, 128]      float16 (CLIP image embedding)
 *   added_time_ids        [B, 3]           float16 (fps - 1, motion bucket, noise augmentation)
 *   -> out_sample         [B, F, 4, H, W]  float16, v-prediction
 *
 * Inside: cast to float32, frames-first -> channels-first, the UNet3D body
 * of tiny-unet3d (spatial + temporal blocks, cross-attention on the image
 * embedding), with the time ids embedded sinusoidally and added to the
 * timestep embedding, as SVD's `add_embedding` does.
 */

export interface TinySvdConfig {
  name: string;
  channels: number;
  imageChannels: number;
  frames: number;
  height: number;
  width: number;
  widths: readonly [number, number];
  heads: number;
  embedDim: number;
  seed: number;
}

export const TINY_SVD: TinySvdConfig = { name: 'tiny-svd', channels: 4, imageChannels: 4, frames: 8, height: 16, width: 16, widths: [16, 32], heads: 2, embedDim: 128, seed: 3101 };

const TIMESTEP_DIM = 64;
/** Values in added_time_ids. */
const TIME_IDS = 3;

/** Serialised ModelProto of tiny-svd (opset 17, dynamic batch `B`, float16 I/O). */
export function buildTinySvdModel(cfg: TinySvdConfig = TINY_SVD): Uint8Array {
  const g = new GraphBuilder(cfg.name.replace(/-/g, '_'));
  const L = new Layers(g, cfg.seed);
  const { channels: C, imageChannels: Ci, frames: F, height: H, width: W } = cfg;
  const f32 = (v: string): string => g.op('Cast', [v], { to: 1 });
  const sampleIn = g.input('sample', 'float16', ['B', F, C + Ci, H, W]);
  const timestep = g.input('timestep', 'float32', ['B']);
  const embeds = g.input('encoder_hidden_states', 'float16', ['B', 1, cfg.embedDim]);
  const timeIds = g.input('added_time_ids', 'float16', ['B', TIME_IDS]);

  const x = g.op('Transpose', [f32(sampleIn)], { perm: [0, 2, 1, 3, 4] }); // [B, C+Ci, F, H, W]
  const noisy = g.op('Slice', [x, L.ints('noisy_start', [0]), L.ints('noisy_end', [C]), L.ints('channel_axis', [1])]);
  const tembDim = 4 * cfg.widths[0];
  let temb = L.timestepEmbedding(timestep, TIMESTEP_DIM, tembDim);
  // add_embedding: each time id embedded sinusoidally (256 -> 64 here), flattened, MLP, added.
  const ids = g.op('Reshape', [f32(timeIds), L.ints('ids_flat', [-1])]);
  const idEmb = g.op('Reshape', [L.sinusoidal(ids, TIMESTEP_DIM), L.ints('ids_shape', [-1, TIME_IDS * TIMESTEP_DIM])]);
  temb = g.op('Add', [temb, L.linear(L.silu(L.linear(idEmb, TIME_IDS * TIMESTEP_DIM, tembDim)), tembDim, tembDim)]);
  const context = g.op('Unsqueeze', [f32(embeds), L.ints('axis', [1])]); // [B,1,1,D]
  const net = unet3dBody(L, x, C + Ci, C, temb, tembDim, context, { frames: F, height: H, width: W, widths: cfg.widths, attentionAtLevel0: false, heads: cfg.heads, textDim: cfg.embedDim });
  const v = predictionHead(L, noisy, net, timestep, DEFAULT_TRAIN_SCHEDULE, 'v_prediction');
  const out = g.op('Cast', [g.op('Transpose', [v], { perm: [0, 2, 1, 3, 4] })], { to: 10 });
  g.output(out, 'out_sample', 'float16', ['B', F, C, H, W]);
  return g.toModel({ opset: 17, docString: `Propeller ${cfg.name}: random-weight stand-in with SVD's UNetSpatioTemporalConditionModel interface, float16 (${L.params} parameters)` });
}

/** Manifest of tiny-svd: what an SVD export's manifest looks like. */
export function tinySvdManifest(cfg: TinySvdConfig = TINY_SVD): DenoiserManifest {
  return standinDenoiserManifest(cfg, {
    description: `Random-weight stand-in with Stable Video Diffusion's interface (frames-first float16 sample with the image latent concatenated on channels, CLIP image embedding, added_time_ids; v-prediction), window ${cfg.channels}x${cfg.frames}x${cfg.height}x${cfg.width}.`,
    predictionType: 'v_prediction',
    process: 'vp',
    defaultScheduler: { kind: 'euler', config: { useKarrasSigmas: true } },
    sampleLayout: 'BFCHW',
    dtype: 'float16',
    conditioning: [
      { source: 'embeddings', input: 'encoder_hidden_states', from: 'image_embeds', shape: [1, cfg.embedDim] },
      { source: 'time_ids', input: 'added_time_ids', values: ['fps_minus_one', 127, 0.02] },
      { source: 'image_latent', from: 'image_latents', channels: cfg.imageChannels, concat: 'channels', unscaled: true },
    ],
    guidance: { batching: 'one_batch', defaultScale: 2.5 },
    output: 'out_sample',
  });
}
