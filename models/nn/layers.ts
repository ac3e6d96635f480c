import { Rng } from '../../common/rng.ts';
import type { GraphBuilder } from '../onnx-graph.ts';

/**
 * Neural-network layers for the random-weight stand-in models, written as
 * ONNX nodes the way torch.onnx.export writes diffusers' blocks: Conv with
 * 3D kernels, GroupNorm as Reshape + InstanceNormalization + affine,
 * LayerNormalization, SiLU as x * Sigmoid(x), GELU through Erf, and
 * attention as MatMul + Softmax with broadcasting batch axes.
 *
 * Weights are seeded normals: std = gain / sqrt(fan_in), so every layer
 * keeps unit-scale activations (the norms reset the scale anyway). Residual
 * branches end in projections with a small gain, as trained networks'
 * zero-initialised out-projections leave them.
 */

/** The node-writing context of one graph: builder, seeded weights, unique names. */
export class Layers {
  private counter = 0;
  readonly rng: Rng;
  /** Parameters written so far. */
  params = 0;

  constructor(
    readonly g: GraphBuilder,
    seed: number,
  ) {
    this.rng = new Rng(seed, 0x5eed);
  }

  /** A fresh value name with `prefix`. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Seeded normal initializer with std `gain / sqrt(fanIn)`. */
  weight(prefix: string, dims: readonly number[], fanIn: number, gain = 1): string {
    const n = dims.reduce((p, d) => p * d, 1);
    const std = gain / Math.sqrt(fanIn);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.rng.normal() * std;
    this.params += n;
    return this.g.constant(this.fresh(prefix), data, dims);
  }

  /** Constant-filled float initializer. */
  filled(prefix: string, dims: readonly number[], value: number): string {
    const n = dims.reduce((p, d) => p * d, 1);
    return this.g.constant(this.fresh(prefix), new Float32Array(n).fill(value), dims);
  }

  ints(prefix: string, values: readonly number[]): string {
    return this.g.int64s(this.fresh(prefix), values);
  }

  scalar(prefix: string, v: number): string {
    return this.g.floats(this.fresh(prefix), [v], []);
  }

  /** x [..., inDim] -> [..., outDim]: MatMul + bias. */
  linear(x: string, inDim: number, outDim: number, gain = 1): string {
    const w = this.weight('linear_w', [inDim, outDim], inDim, gain);
    const b = this.filled('linear_b', [outDim], 0);
    return this.g.op('Add', [this.g.op('MatMul', [x, w]), b]);
  }

  /**
   * Conv over [B, C, F, H, W] with kernel [kt, kh, kw] ("same" padding),
   * optional stride (patchify: `noPadding`).
   */
  conv3d(x: string, cin: number, cout: number, kernel: readonly [number, number, number], opts: { stride?: readonly [number, number, number]; gain?: number; noPadding?: boolean } = {}): string {
    const [kt, kh, kw] = kernel;
    const w = this.weight('conv_w', [cout, cin, kt, kh, kw], cin * kt * kh * kw, opts.gain ?? 1);
    const b = this.filled('conv_b', [cout], 0);
    const pads = opts.noPadding ? [0, 0, 0, 0, 0, 0] : [kt >> 1, kh >> 1, kw >> 1, kt >> 1, kh >> 1, kw >> 1];
    return this.g.op('Conv', [x, w, b], { kernel_shape: [kt, kh, kw], pads, strides: [...(opts.stride ?? [1, 1, 1])] });
  }

  /** GroupNorm over [B, C, ...] (rank >= 3) as torch exports it: InstanceNormalization over groups, then a per-channel affine. */
  groupNorm(x: string, channels: number, groups: number, rank: number): string {
    const g = this.g;
    const grouped = g.op('Reshape', [x, this.ints('gn_shape', [0, groups, -1])]);
    const normed = g.op('InstanceNormalization', [grouped, this.filled('gn_one', [groups], 1), this.filled('gn_zero', [groups], 0)], { epsilon: 1e-5 });
    const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
    const affine = [channels, ...Array.from({ length: rank - 2 }, () => 1)];
    return g.op('Add', [g.op('Mul', [back, this.filled('gn_gamma', affine, 1)]), this.filled('gn_beta', affine, 0)]);
  }

  /** LayerNorm over the last axis. */
  layerNorm(x: string, dim: number): string {
    return this.g.op('LayerNormalization', [x, this.filled('ln_gamma', [dim], 1), this.filled('ln_beta', [dim], 0)], { axis: -1, epsilon: 1e-5 });
  }

  silu(x: string): string {
    return this.g.op('Mul', [x, this.g.op('Sigmoid', [x])]);
  }

  /** GELU, exact (erf) form. */
  gelu(x: string): string {
    const g = this.g;
    const erf = g.op('Erf', [g.op('Mul', [x, this.scalar('gelu_inv_sqrt2', Math.SQRT1_2)])]);
    return g.op('Mul', [g.op('Mul', [x, this.scalar('gelu_half', 0.5)]), g.op('Add', [erf, this.scalar('gelu_one', 1)])]);
  }

  /**
   * Multi-head attention. `x` is [B, G, T, C] (G groups of T tokens: frames
   * for spatial attention, pixels for temporal attention); `context` is
   * [B, G or 1, S, Cc] (self-attention when omitted). A context with one
   * group is broadcast over x's groups by MatMul, as cross-attention on
   * `encoder_hidden_states` is for every frame. Returns [B, G, T, C] after
   * the output projection (gain `outGain`); `mask` is added to the scores.
   */
  attention(x: string, dim: number, heads: number, opts: { context?: string; contextDim?: number; outGain?: number; mask?: string } = {}): string {
    const g = this.g;
    const dh = dim / heads;
    if (!Number.isInteger(dh)) throw new Error(`attention: ${dim} channels do not split into ${heads} heads`);
    const ctx = opts.context ?? x;
    const cdim = opts.contextDim ?? dim;
    const split = (v: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [v, this.ints('heads_shape', [0, 0, 0, heads, dh])])], { perm });
    const q = split(this.linear(x, dim, dim), [0, 1, 3, 2, 4]); // [B,G,h,T,dh]
    const k = split(this.linear(ctx, cdim, dim), [0, 1, 3, 4, 2]); // [B,G',h,dh,S]
    const v = split(this.linear(ctx, cdim, dim), [0, 1, 3, 2, 4]); // [B,G',h,S,dh]
    let scores = g.op('Mul', [g.op('MatMul', [q, k]), this.scalar('attn_scale', 1 / Math.sqrt(dh))]);
    // An additive mask [T, S] (e.g. causal: -1e4 above the diagonal) broadcasts over batch, groups and heads.
    if (opts.mask) scores = g.op('Add', [scores, opts.mask]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const out = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 1, 3, 2, 4] }); // [B,G,T,h,dh]
    const merged = g.op('Reshape', [out, this.ints('merge_heads', [0, 0, 0, dim])]);
    return this.linear(merged, dim, dim, opts.outGain ?? 1);
  }

  /** Feed-forward (GELU, 4x wide) on [..., dim]. */
  feedForward(x: string, dim: number, outGain: number): string {
    return this.linear(this.gelu(this.linear(x, dim, 4 * dim)), 4 * dim, dim, outGain);
  }

  /**
   * Sinusoidal embedding of t [B] (model timestep units) -> [B, dim], as
   * diffusers' `get_timestep_embedding` (flip_sin_to_cos, shift 0).
   */
  sinusoidal(t: string, dim: number, maxPeriod = 10000): string {
    const g = this.g;
    const half = dim / 2;
    const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / half));
    const args = g.op('Mul', [g.op('Unsqueeze', [t, this.ints('axis', [1])]), g.floats(this.fresh('freqs'), freqs, [1, half])]);
    return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: 1 });
  }

  /** Timestep embedding MLP: sinusoidal(t, dim) -> Linear -> SiLU -> Linear, [B, embDim]. */
  timestepEmbedding(t: string, dim: number, embDim: number): string {
    return this.linear(this.silu(this.linear(this.sinusoidal(t, dim), dim, embDim)), embDim, embDim);
  }
}

/** Floating-point operations of a MatMul [m, k] x [k, n] (multiply-adds counted as 2). */
export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}
