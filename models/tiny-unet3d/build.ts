import type { DenoiserManifest } from '../../common/manifest.ts';
import { standinDenoiserManifest } from '../tiny-standin.ts';
import { DEFAULT_TRAIN_SCHEDULE } from '../../common/noise-schedule.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { Layers } from '../nn/layers.ts';
import { predictionHead, resBlock, spatialTransformer, temporalConv, temporalTransformer, type Extent } from '../nn/video-blocks.ts';

/**
 * `tiny-unet3d-s` / `tiny-unet3d-m`: random-weight stand-ins for
 * AnimateDiff / ModelScope-style UNet3D video denoisers, with the inputs and
 * output of such a model exported from diffusers
 * (`UNet3DConditionModel.forward(sample, timestep, encoder_hidden_states)`):
 *
 *   sample                [B, 4, F, H, W]  float32
 *   timestep              [B]              float32 (training-schedule units)
 *   encoder_hidden_states [B, 77, 128]     float32 (text embeddings)
 *   -> noise_pred         [B, 4, F, H, W]  (epsilon)
 *
 * Two resolution levels. Down: conv_in; per level ResBlock, temporal
 * conv, and (where `attention` says) a spatial transformer (self-attention,
 * cross-attention on the text embeddings, feed-forward) and a temporal
 * transformer (AnimateDiff motion module); strided conv down. Mid: ResBlock +
 * transformers. Up: nearest 2x upsampling + conv, concatenated skip,
 * ResBlock + temporal conv; GN, SiLU, conv_out. Weights are seeded random
 * (see nn/layers.ts); the output head keeps samples O(1) (nn/video-blocks.ts).
 */

/** Size of a stand-in UNet3D. */
export interface TinyUnet3dConfig {
  name: string;
  /** Latent window [C, F, H, W]. */
  channels: number;
  frames: number;
  height: number;
  width: number;
  /** Block widths of the two levels. */
  widths: readonly [number, number];
  /** Transformers at level 0 (full resolution) as well as level 1 and mid. */
  attentionAtLevel0: boolean;
  heads: number;
  /** encoder_hidden_states [textTokens, textDim]. */
  textTokens: number;
  textDim: number;
  seed: number;
}

/** The shipped sizes. S: for tests (a few ms per window); M: realistic compute for benches. */
export const TINY_UNET3D: Readonly<Record<'s' | 'm', TinyUnet3dConfig>> = {
  s: { name: 'tiny-unet3d-s', channels: 4, frames: 8, height: 16, width: 16, widths: [16, 32], attentionAtLevel0: false, heads: 2, textTokens: 77, textDim: 128, seed: 3001 },
  m: { name: 'tiny-unet3d-m', channels: 4, frames: 16, height: 32, width: 32, widths: [48, 96], attentionAtLevel0: false, heads: 4, textTokens: 77, textDim: 128, seed: 3002 },
};

const TIMESTEP_DIM = 64;

/** Serialised ModelProto of a stand-in UNet3D (opset 17, dynamic batch `B`). */
export function buildTinyUnet3dModel(cfg: TinyUnet3dConfig): Uint8Array {
  const g = new GraphBuilder(cfg.name.replace(/-/g, '_'));
  const L = new Layers(g, cfg.seed);
  const { channels: C, frames: F, height: H, width: W } = cfg;
  const sample = g.input('sample', 'float32', ['B', C, F, H, W]);
  const timestep = g.input('timestep', 'float32', ['B']);
  const text = g.input('encoder_hidden_states', 'float32', ['B', cfg.textTokens, cfg.textDim]);
  const context = g.op('Unsqueeze', [text, L.ints('axis', [1])]); // [B,1,L,D]: broadcast over frames
  const tembDim = 4 * cfg.widths[0];
  const temb = L.timestepEmbedding(timestep, TIMESTEP_DIM, tembDim);
  const net = unet3dBody(L, sample, C, C, temb, tembDim, context, cfg);
  const out = predictionHead(L, sample, net, timestep, DEFAULT_TRAIN_SCHEDULE, 'epsilon');
  g.output(out, 'noise_pred', 'float32', ['B', C, F, H, W]);
  return g.toModel({ opset: 17, docString: `Propeller ${cfg.name}: random-weight UNet3D stand-in (${L.params} parameters)` });
}

/** Geometry and widths of a UNet3D body. */
export type Unet3dBodyConfig = Pick<TinyUnet3dConfig, 'frames' | 'height' | 'width' | 'widths' | 'attentionAtLevel0' | 'heads' | 'textDim'>;

/**
 * The UNet body on x [B, cin, F, H, W] -> [B, cout, F, H, W] (see the file
 * comment), conditioned on the time embedding `temb` [B, tembDim] and the
 * cross-attention context [B, 1, L, textDim]. Shared with tiny-svd.
 */
export function unet3dBody(L: Layers, x: string, cin: number, cout: number, temb: string, tembDim: number, context: string, cfg: Unet3dBodyConfig): string {
  const g = L.g;
  const { frames: F, height: H, width: W } = cfg;
  const [c0, c1] = cfg.widths;
  const e0: Extent = { channels: c0, frames: F, height: H, width: W };
  const e1: Extent = { channels: c1, frames: F, height: H / 2, width: W / 2 };
  const transformers = (v: string, e: Extent): string =>
    temporalTransformer(L, spatialTransformer(L, v, e, cfg.heads, context, cfg.textDim), e, cfg.heads);

  // Down.
  let h = L.conv3d(x, cin, c0, [1, 3, 3]);
  h = temporalConv(L, resBlock(L, h, c0, c0, temb, tembDim), c0);
  if (cfg.attentionAtLevel0) h = transformers(h, e0);
  const skip0 = h;
  h = L.conv3d(h, c0, c0, [1, 3, 3], { stride: [1, 2, 2] });
  h = temporalConv(L, resBlock(L, h, c0, c1, temb, tembDim), c1);
  h = transformers(h, e1);
  // Mid.
  h = transformers(resBlock(L, h, c1, c1, temb, tembDim), e1);
  // Up.
  const up = g.op('Resize', [h, '', g.floats(L.fresh('up_scales'), [1, 1, 1, 2, 2])], { mode: 'nearest' });
  h = L.conv3d(up, c1, c0, [1, 3, 3]);
  h = g.op('Concat', [h, skip0], { axis: 1 });
  h = temporalConv(L, resBlock(L, h, 2 * c0, c0, temb, tembDim), c0);
  if (cfg.attentionAtLevel0) h = transformers(h, e0);
  return L.conv3d(L.silu(L.groupNorm(h, c0, 8, 5)), c0, cout, [1, 3, 3]);
}

/** Manifest of a stand-in UNet3D. */
export function tinyUnet3dManifest(cfg: TinyUnet3dConfig): DenoiserManifest {
  return standinDenoiserManifest(cfg, {
    description: `Random-weight stand-in for an AnimateDiff/ModelScope-style UNet3D (ResBlocks with temporal convolutions, spatial and temporal self-attention, cross-attention on encoder_hidden_states), window ${cfg.channels}x${cfg.frames}x${cfg.height}x${cfg.width}, widths ${cfg.widths.join('/')}.`,
    predictionType: 'epsilon',
    process: 'vp',
    defaultScheduler: { kind: 'ddim', config: {} },
    conditioning: [
      { source: 'embeddings', input: 'encoder_hidden_states', from: 'prompt_embeds', negativeFrom: 'negative_prompt_embeds', shape: [cfg.textTokens, cfg.textDim], textEncoder: 'tiny-clip-text' },
    ],
    guidance: { batching: 'one_batch', defaultScale: 7.5 },
    output: 'noise_pred',
  });
}
