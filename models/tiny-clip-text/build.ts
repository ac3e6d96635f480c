import type { TextEncoderManifest } from '../../common/manifest.ts';
import { bytesToUnicode, mergeByRank } from '../../common/byte-bpe.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { Layers } from '../nn/layers.ts';
import { RESIDUAL_GAIN } from '../nn/video-blocks.ts';

/**
 * `tiny-clip-text`: a random-weight stand-in for a CLIP text encoder as
 * Stable Diffusion / AnimateDiff use it, with a real CLIP-style byte-level
 * BPE vocabulary (`vocab.json`, `merges.txt`) beside it:
 *
 *   input_ids          [B, 77]       int64
 *   -> last_hidden_state [B, 77, 128] float32
 *
 * Token and position embeddings, `layers` pre-LayerNorm transformer layers
 * with causal self-attention, final LayerNorm (CLIPTextModel's shape).
 * The vocabulary: the 256 byte symbols with and without `</w>`, merges that
 * build a few hundred common words, and the start / end tokens.
 */

export interface TinyClipTextConfig {
  name: string;
  maxLength: number;
  dim: number;
  layers: number;
  heads: number;
  seed: number;
}

export const TINY_CLIP_TEXT: TinyClipTextConfig = { name: 'tiny-clip-text', maxLength: 77, dim: 128, layers: 2, heads: 4, seed: 3301 };

/** Words that get whole-word merges (everything else is spelled out in byte symbols, still valid BPE). */
const WORDS = (
  'a an the of and with in on at by to from over under into through across near far above below ' +
  'fox cat dog owl bird fish horse bear wolf deer rabbit tiger lion dragon robot person man woman child ' +
  'red orange yellow green blue purple pink black white gray grey brown golden silver dark bright ' +
  'snow rain fog cloud clouds fire ocean sea river lake forest tree trees mountain mountains city street ' +
  'night day sunset sunrise dusk dawn sky star stars moon sun light shadow water wave waves wind ' +
  'running walking flying swimming jumping dancing sitting standing falling rising burning glowing ' +
  'fast slow small big large tiny huge old new beautiful cinematic realistic detailed blurry quality low high ' +
  'video photo painting style film shot camera close wide view scene motion'
).split(' ');

/** vocab.json and merges.txt of the stand-in tokenizer (deterministic). */
export function tinyClipVocab(): { vocab: Record<string, number>; merges: string[] } {
  const table = bytesToUnicode();
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const s of table) vocab[s] = next++;
  for (const s of table) vocab[`${s}</w>`] = next++;
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  for (const word of WORDS) {
    // Apply the merges so far (as the tokenizer will), then add merges that
    // join what is left from the left until the word is one token.
    const chars = [...word];
    let parts = mergeByRank([...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`], ranks);
    while (parts.length > 1) {
      const rule = `${parts[0]} ${parts[1]}`;
      const merged = parts[0]! + parts[1]!;
      if (!(merged in vocab)) vocab[merged] = next++;
      if (!ranks.has(rule)) {
        ranks.set(rule, merges.length);
        merges.push(rule);
      }
      parts = mergeByRank(parts, ranks);
    }
  }
  vocab['<|startoftext|>'] = next++;
  vocab['<|endoftext|>'] = next++;
  return { vocab, merges };
}

/** Serialised ModelProto of the stand-in text encoder (opset 17, dynamic batch `B`). */
export function buildTinyClipTextModel(cfg: TinyClipTextConfig = TINY_CLIP_TEXT): Uint8Array {
  const g = new GraphBuilder(cfg.name.replace(/-/g, '_'));
  const L = new Layers(g, cfg.seed);
  const V = Object.keys(tinyClipVocab().vocab).length;
  const { maxLength: T, dim: D } = cfg;
  const ids = g.input('input_ids', 'int64', ['B', T]);
  const tokens = g.op('Gather', [L.weight('token_embedding', [V, D], 1), ids], { axis: 0 }); // [B,T,D]
  let x = g.op('Unsqueeze', [g.op('Add', [tokens, L.weight('position_embedding', [T, D], 1, 0.5)]), L.ints('axis', [1])]); // [B,1,T,D]
  const causal = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) causal[i * T + j] = -1e4;
  const mask = g.constant(L.fresh('causal_mask'), causal, [T, T]);
  for (let i = 0; i < cfg.layers; i++) {
    x = g.op('Add', [x, L.attention(L.layerNorm(x, D), D, cfg.heads, { mask, outGain: RESIDUAL_GAIN })]);
    x = g.op('Add', [x, L.feedForward(L.layerNorm(x, D), D, RESIDUAL_GAIN)]);
  }
  const out = g.op('Squeeze', [L.layerNorm(x, D), L.ints('axis_sq', [1])]);
  g.output(out, 'last_hidden_state', 'float32', ['B', T, D]);
  return g.toModel({ opset: 17, docString: `Propeller ${cfg.name}: random-weight CLIP-text stand-in (${L.params} parameters)` });
}

/** Manifest of the stand-in text encoder. */
export function tinyClipTextManifest(cfg: TinyClipTextConfig = TINY_CLIP_TEXT): TextEncoderManifest {
  return {
    kind: 'text_encoder',
    name: cfg.name,
    description: `Random-weight stand-in for a CLIP text encoder (${cfg.layers} causal transformer layers of width ${cfg.dim}) with a byte-level BPE vocabulary.`,
    file: 'model.onnx',
    input: 'input_ids',
    output: 'last_hidden_state',
    maxLength: cfg.maxLength,
    hiddenSize: cfg.dim,
    tokenizer: { kind: 'clip_bpe', vocab: 'vocab.json', merges: 'merges.txt' },
    maxBatch: 16,
  };
}
