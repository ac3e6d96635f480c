import type { DenoiserManifest } from '../../common/manifest.ts';
import { standinDenoiserManifest } from '../tiny-standin.ts';
import { DEFAULT_TRAIN_SCHEDULE } from '../../common/noise-schedule.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { Layers } from '../nn/layers.ts';
import { predictionHead, RESIDUAL_GAIN } from '../nn/video-blocks.ts';

/**
 * `tiny-dit`: a random-weight stand-in for a spacetime-patch video
 * transformer (Latte / Open-Sora / Wan style) trained with rectified flow:
 *
 *   sample                [B, 4, F, H, W]  float32
 *   timestep              [B]              float32 (1000 t)
 *   encoder_hidden_states [B, 32, 128]     float32 (text-encoder states)
 *   -> velocity           [B, 4, F, H, W]  (flow: eps - x0)
 *
 * Patchify with a 1x2x2 Conv (stride 1x2x2), sinusoidal positions over
 * (frame, row, column), then `depth` DiT blocks with adaLN-Zero style
 * modulation from the timestep embedding: full spacetime self-attention
 * over all F * H/2 * W/2 tokens, cross-attention on the text states and a
 * feed-forward; final modulated LayerNorm, linear to 2x2x4 per token and
 * unpatchify.
 */

export interface TinyDitConfig {
  name: string;
  channels: number;
  frames: number;
  height: number;
  width: number;
  /** Spatial patch size. */
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  textTokens: number;
  textDim: number;
  seed: number;
}

export const TINY_DIT: TinyDitConfig = { name: 'tiny-dit', channels: 4, frames: 8, height: 16, width: 16, patch: 2, dim: 96, depth: 3, heads: 4, textTokens: 32, textDim: 128, seed: 3201 };

const TIMESTEP_DIM = 64;

/** Serialised ModelProto of tiny-dit (opset 17, dynamic batch `B`). */
export function buildTinyDitModel(cfg: TinyDitConfig = TINY_DIT): Uint8Array {
  const g = new GraphBuilder(cfg.name.replace(/-/g, '_'));
  const L = new Layers(g, cfg.seed);
  const { channels: C, frames: F, height: H, width: W, patch: p, dim: D } = cfg;
  const h = H / p;
  const w = W / p;
  const N = F * h * w;
  const sample = g.input('sample', 'float32', ['B', C, F, H, W]);
  const timestep = g.input('timestep', 'float32', ['B']);
  const text = g.input('encoder_hidden_states', 'float32', ['B', cfg.textTokens, cfg.textDim]);
  const context = g.op('Unsqueeze', [text, L.ints('axis', [1])]); // [B,1,L,Dt]

  // Patchify: [B, D, F, h, w] -> tokens [B, 1, N, D] (one attention group: full spacetime attention).
  const patches = L.conv3d(sample, C, D, [1, p, p], { stride: [1, p, p], noPadding: true });
  const tokens0 = g.op('Transpose', [g.op('Reshape', [patches, L.ints('tok', [0, D, N])])], { perm: [0, 2, 1] });
  let x = g.op('Add', [g.op('Unsqueeze', [tokens0, L.ints('axis_g', [1])]), g.constant(L.fresh('positions'), positions(F, h, w, D), [N, D])]);

  const temb = L.silu(L.timestepEmbedding(timestep, TIMESTEP_DIM, D)); // [B, D]
  const modulation = (count: number): string[] => {
    const m = g.op('Reshape', [L.linear(temb, D, count * D, 0.5), L.ints('mod_shape', [-1, 1, 1, count * D])]);
    return g.opMulti('Split', [m, L.ints('mod_split', Array.from({ length: count }, () => D))], count, { axis: 3 });
  };
  const modulate = (v: string, shift: string, scale: string): string =>
    g.op('Add', [g.op('Mul', [v, g.op('Add', [scale, L.scalar('one', 1)])]), shift]);

  for (let i = 0; i < cfg.depth; i++) {
    const [shift1, scale1, gate1, shift2, scale2, gate2] = modulation(6) as [string, string, string, string, string, string];
    x = g.op('Add', [x, g.op('Mul', [gate1, L.attention(modulate(L.layerNorm(x, D), shift1, scale1), D, cfg.heads, { outGain: RESIDUAL_GAIN })])]);
    x = g.op('Add', [x, L.attention(L.layerNorm(x, D), D, cfg.heads, { context, contextDim: cfg.textDim, outGain: RESIDUAL_GAIN })]);
    x = g.op('Add', [x, g.op('Mul', [gate2, L.feedForward(modulate(L.layerNorm(x, D), shift2, scale2), D, RESIDUAL_GAIN)])]);
  }
  const [shiftF, scaleF] = modulation(2) as [string, string];
  const outTokens = L.linear(modulate(L.layerNorm(x, D), shiftF, scaleF), D, p * p * C); // [B,1,N,p*p*C]
  // Unpatchify: [B, F, h, w, p, p, C] -> [B, C, F, h, p, w, p] -> [B, C, F, H, W].
  const grid = g.op('Reshape', [outTokens, L.ints('unpatch', [-1, F, h, w, p, p, C])]);
  const net = g.op('Reshape', [g.op('Transpose', [grid], { perm: [0, 6, 1, 2, 4, 3, 5] }), L.ints('unpatch_back', [-1, C, F, H, W])]);
  const out = predictionHead(L, sample, net, timestep, DEFAULT_TRAIN_SCHEDULE, 'flow');
  g.output(out, 'velocity', 'float32', ['B', C, F, H, W]);
  return g.toModel({ opset: 17, docString: `Propeller ${cfg.name}: random-weight spacetime-patch transformer stand-in (${L.params} parameters)` });
}

/** Sinusoidal positions of (frame, row, column), a third of the channels each (the rest zero). */
function positions(F: number, h: number, w: number, D: number): Float32Array {
  const out = new Float32Array(F * h * w * D);
  const part = Math.floor(D / 6) * 2;
  const put = (n: number, coord: number, offset: number): void => {
    for (let i = 0; i < part / 2; i++) {
      const a = coord / Math.pow(10000, (2 * i) / part);
      out[n * D + offset + 2 * i] = Math.sin(a);
      out[n * D + offset + 2 * i + 1] = Math.cos(a);
    }
  };
  let n = 0;
  for (let f = 0; f < F; f++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, n++) {
        put(n, f, 0);
        put(n, y, part);
        put(n, x, 2 * part);
      }
    }
  }
  return out;
}

/** Manifest of tiny-dit. */
export function tinyDitManifest(cfg: TinyDitConfig = TINY_DIT): DenoiserManifest {
  return standinDenoiserManifest(cfg, {
    description: `Random-weight stand-in for a spacetime-patch video transformer (rectified flow, velocity output, text cross-attention), window ${cfg.channels}x${cfg.frames}x${cfg.height}x${cfg.width}, ${cfg.depth} blocks of width ${cfg.dim}.`,
    predictionType: 'flow',
    process: 'flow',
    defaultScheduler: { kind: 'flow_euler', config: { shift: 3 } },
    conditioning: [{ source: 'embeddings', input: 'encoder_hidden_states', from: 'prompt_embeds', negativeFrom: 'negative_prompt_embeds', shape: [cfg.textTokens, cfg.textDim] }],
    guidance: { batching: 'two_batches', defaultScale: 5 },
    output: 'velocity',
  });
}
