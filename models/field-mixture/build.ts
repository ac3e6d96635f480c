import type { DenoiserManifest } from '../../common/manifest.ts';
import type { TrainSchedule } from '../../common/noise-schedule.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { FIELD_COMPONENTS, FIELD_WINDOW, type FieldComponent, type FieldWindow } from './components.ts';
import { complexDftBlock, realDftRight, realIdftRight } from './dft-matrices.ts';
import { logDetGraph, logSnrRange, relativeLogDetTable } from './log-det.ts';
import { noiseLevelGraph } from './noise-graph.ts';
import { halfGridMultiplicity, halfWidth } from './spectrum.ts';
import { FIELD_TRAIN_SCHEDULE, halfGridEigenvalues, type NoiseProcess } from './tables.ts';
import { fieldPreviewMap } from './preview-map.ts';

/**
 * ONNX graph of the field-mixture denoisers: the exact posterior mean of a
 * mixture of stationary Gaussian fields under a forward process
 * x_t = a x0 + s eps, returned as epsilon (process 'vp', model
 * `field-mixture`) or as the flow velocity eps - x0 (process 'flow', model
 * `field-mixture-flow`). Only the timestep -> (a, s) stage (`noise-graph.ts`)
 * and the output gain differ between the two; everything else is shared.
 *
 * Maths, per item, with the unitary DFT X = U x_t and d_k = a^2 lambda_k + s^2:
 *   log p(x_t | k) = -1/2 sum_f |X - a M_k|^2 / d_k - 1/2 sum_f log(2 pi d_k)
 *   r = softmax_k(log w_k + log p(x_t | k))
 *   E[eps | x_t] = U^H( s (sum_k r_k / d_k) X ) - s a sum_k r_k mu_k / d_k(0)
 *   E[x0 | x_t]  = U^H( a (sum_k r_k lambda_k / d_k) X ) + s^2 sum_k r_k mu_k / d_k(0)
 * (M_k = U mu_k: DC only; the mean terms are constants per channel), so
 *   eps      = U^H( s G1 X )            - s a       sum_k r_k mu_k / d_k(0)
 *   eps - x0 = U^H( (s G1 - a G2) X )   - (s a + s^2) sum_k r_k mu_k / d_k(0)
 * with G1 = sum_k r_k / d_k and G2 = sum_k r_k lambda_k / d_k (one MatMul
 * each), and one forward and one inverse DFT serve all K components.
 * Predicting the output directly avoids the cancellation in (x_t - a x0_hat) / s
 * at small s (VP) and in (eps_hat - x_t) / a at small a (flow).
 *
 * For float32 accuracy the log-likelihoods are rearranged so that terms
 * common to all components never get computed:
 *   sum_f |X - a M_k|^2 / d_k = sum_f P / s^2 - (a^2/s^2) sum_f P lambda_k / d_k
 *                               + a mu_k sqrt(N) (a mu_k sqrt(N) - 2 X(0)) / d_k(0)
 *   sum_f log d_k             = N log s^2 + sum_f log(d_k / s^2)
 * (P = |X|^2; the first terms are common). The remaining log-determinant
 * R_k = sum_f log(1 + (a/s)^2 lambda_k), relative to its mean over k, comes
 * from a float64 table over log SNR with quintic Hermite interpolation
 * (`log-det.ts`), so it is accurate for any timestep: fractional VP
 * timesteps and the continuous flow time included.
 *
 * The input is real, so the DFT along W keeps bins 0..W/2 only ("half grid",
 * sums weighted by `halfGridMultiplicity`); the DFTs are MatMuls with cos/sin
 * matrices (see `dft-matrices.ts`), no DFT op.
 */

/** What the graph is built from; the shipped models use the defaults (and a process each). */
export interface FieldMixtureSpec {
  components?: readonly FieldComponent[];
  /** VP: the training noise schedule. Flow: only `numTrainTimesteps` is used, as the timestep scale. */
  schedule?: TrainSchedule;
  window?: FieldWindow;
  /** Forward process; 'vp' (epsilon output) unless told. */
  process?: NoiseProcess;
}

/** Smallest normalised weight whose log is taken (zero weights are masked out exactly, not floored). */
const WEIGHT_FLOOR = 1e-30;
/** Logit of excluded (zero-weight) components: far below any real logit, finite so max - it never makes NaN. */
const EXCLUDED_LOGIT = -3e38;

/** Graph output name per process. */
const OUTPUT_NAME: Record<NoiseProcess, string> = { vp: 'epsilon', flow: 'velocity' };

/** Serialised ModelProto of a field-mixture denoiser (opset 17, dynamic batch `B`). */
export function buildFieldMixtureModel(spec: FieldMixtureSpec = {}): Uint8Array {
  const comps = spec.components ?? FIELD_COMPONENTS;
  const schedule = spec.schedule ?? FIELD_TRAIN_SCHEDULE;
  const win = spec.window ?? FIELD_WINDOW;
  const process = spec.process ?? 'vp';
  const { channels: C, frames: F, height: H, width: W } = win;
  const K = comps.length;
  const Wh = halfWidth(win);
  const HWh = H * Wh;
  const Nh = F * HWh;

  const g = new GraphBuilder(process === 'flow' ? 'field_mixture_flow' : 'field_mixture');
  const sample = g.input('sample', 'float32', ['B', C, F, H, W]);
  const timestep = g.input('timestep', 'float32', ['B']);
  const classWeights = g.input('class_weights', 'float32', ['B', K]);

  const ints = (name: string, v: number[]): string => g.int64s(name, v);
  const scalar = (name: string, v: number): string => g.floats(name, [v], []);
  const zero = scalar('zero', 0);
  const half = scalar('half', 0.5);
  const two = scalar('two', 2);

  // 1. Timestep -> a, s [B] (per process; see noise-graph.ts).
  const { a, s } = noiseLevelGraph(g, timestep, schedule, process);
  const a4 = g.op('Reshape', [a, ints('shape_b111', [-1, 1, 1, 1])]);
  const s4 = g.op('Reshape', [s, ints('shape_b111_s', [-1, 1, 1, 1])]);
  const a2 = g.op('Mul', [a4, a4]);
  const s2 = g.op('Mul', [s4, s4]);

  // 2. Forward unitary DFT: W (real -> half grid), then H and F (complex, [re; im] stacked).
  const x6 = g.op('Reshape', [sample, ints('shape_x6', [0, 0, 0, 1, H, W])]);
  const xw = g.op('MatMul', [x6, g.floats('dft_w', realDftRight(W), [2, W, Wh])]); // [B,C,F,2,H,Wh]
  const xw5 = g.op('Reshape', [xw, ints('shape_2h', [0, 0, 0, 2 * H, Wh])]);
  const xh = g.op('MatMul', [g.floats('dft_h', complexDftBlock(H), [2 * H, 2 * H]), xw5]);
  const xh5 = g.op('Reshape', [xh, ints('shape_f2hw', [0, 0, F, 2, HWh])]);
  const xt = g.op('Transpose', [xh5], { perm: [0, 1, 3, 2, 4] }); // [B,C,2,F,H*Wh]
  const xt4 = g.op('Reshape', [xt, ints('shape_2f', [0, 0, 2 * F, HWh])]);
  const xf = g.op('MatMul', [g.floats('dft_f', complexDftBlock(F), [2 * F, 2 * F]), xt4]);
  const X = g.op('Reshape', [xf, ints('shape_spec', [0, 0, 2, Nh])]); // [B,C,2,Nh]

  // 3. Power spectrum, weighted by half-grid multiplicity; the (real) DC coefficient.
  const axis2 = ints('axis_2', [2]);
  const power = g.op('ReduceSum', [g.op('Mul', [X, X]), axis2], { keepdims: 0 }); // [B,C,Nh]
  const mPower = g.op('Mul', [power, g.floats('half_grid_multiplicity', halfGridMultiplicity(win))]);
  const axis1 = ints('axis_1', [1]);
  const mPower4 = g.op('Unsqueeze', [mPower, axis1]); // [B,1,C,Nh]
  const dc = g.op('Slice', [X, ints('dc_starts', [0, 0]), ints('dc_ends', [1, 1]), ints('dc_axes', [2, 3])]);
  const X0 = g.op('Reshape', [dc, ints('shape_b1c', [0, 1, C])]); // [B,1,C]

  // 4. Per-component denominators d = a^2 lambda + s^2 on the half grid: [B,K,C,Nh].
  const lambda = g.floats('eigenvalues', halfGridEigenvalues(comps, win), [K, C, Nh]);
  const d = g.op('Add', [g.op('Mul', [lambda, a2]), s2]);
  const invD = g.op('Reciprocal', [d]);
  const ratio = g.op('Mul', [lambda, invD]);
  const axis3 = ints('axis_3', [3]);
  const q = g.op('ReduceSum', [g.op('Mul', [ratio, mPower4]), axis3], { keepdims: 0 }); // [B,K,C]
  const invD0 = g.op('Reshape', [
    g.op('Slice', [invD, ints('dc0_starts', [0]), ints('dc0_ends', [1]), axis3]),
    ints('shape_bkc', [0, K, C]),
  ]);

  // 5. Log-likelihoods up to terms common to all k.
  const a3 = g.op('Reshape', [a, ints('shape_b11', [-1, 1, 1])]);
  const snr3 = g.op('Reshape', [g.op('Div', [a2, s2]), ints('shape_b11_r', [-1, 1, 1])]);
  const sqrtN = Math.sqrt(F * H * W);
  const muScaled = g.floats('mean_sqrt_n', comps.flatMap((c) => c.mean.slice(0, C).map((m) => m * sqrtN)), [K, C]);
  const aMu = g.op('Mul', [a3, muScaled]); // a mu sqrt(N): [B,K,C]
  const dcTerm = g.op('Mul', [g.op('Mul', [aMu, g.op('Sub', [aMu, g.op('Mul', [two, X0])])]), invD0]);
  const perChannel = g.op('Sub', [g.op('Mul', [snr3, q]), dcTerm]);
  const quadGain = g.op('ReduceSum', [perChannel, axis2], { keepdims: 0 }); // [B,K]
  const [lo, hi] = logSnrRange(schedule, process);
  const logDet = logDetGraph(g, a, s, relativeLogDetTable(comps, lo, hi, win), K); // [B,K], see log-det.ts
  const logLik = g.op('Mul', [half, g.op('Sub', [quadGain, logDet])]);

  // 6. Prior: clamp negatives, all-zero rows become uniform, normalise, log with
  // a floor; zero weights are masked out exactly. Then a stable softmax.
  const wClamped = g.op('Max', [classWeights, zero]);
  const anyPositive = g.op('Greater', [g.op('ReduceSum', [wClamped, axis1], { keepdims: 1 }), zero]); // [B,1]
  const wPos = g.op('Where', [anyPositive, wClamped, scalar('one', 1)]);
  const floor = scalar('weight_floor', WEIGHT_FLOOR);
  const wNorm = g.op('Div', [wPos, g.op('ReduceSum', [wPos, axis1], { keepdims: 1 })]);
  const logits = g.op('Where', [
    g.op('Greater', [wNorm, zero]),
    g.op('Add', [g.op('Log', [g.op('Max', [wNorm, floor])]), logLik]),
    scalar('excluded_logit', EXCLUDED_LOGIT),
  ]);
  const shifted = g.op('Sub', [logits, g.op('ReduceMax', [logits], { axes: [1], keepdims: 1 })]);
  const e = g.op('Exp', [shifted]);
  const r = g.op('Div', [e, g.op('ReduceSum', [e, axis1], { keepdims: 1 })], {}, { output: 'responsibilities' }); // [B,K]

  // 7. Mixed filter (one MatMul per sum over k), applied to the spectrum:
  // vp: s G1; flow: s G1 - a G2 (see the header).
  const rRow = g.op('Unsqueeze', [r, axis1]); // [B,1,K]
  const mix = (perK: string, tag: string): string =>
    g.op('Reshape', [
      g.op('MatMul', [rRow, g.op('Reshape', [perK, ints(`shape_bk_cn_${tag}`, [0, K, C * Nh])])]),
      ints(`shape_bc1n_${tag}`, [0, C, 1, Nh]),
    ]);
  const sG1 = g.op('Mul', [s4, mix(invD, 'g1')]);
  const gain = process === 'flow' ? g.op('Sub', [sG1, g.op('Mul', [a4, mix(ratio, 'g2')])]) : sG1;
  const Y = g.op('Mul', [X, gain]); // [B,C,2,Nh]

  // 8. Inverse unitary DFT: F, H (complex), then W (half grid -> real).
  const y4 = g.op('Reshape', [Y, ints('shape_2f_inv', [0, 0, 2 * F, HWh])]);
  const yf = g.op('MatMul', [g.floats('idft_f', complexDftBlock(F, true), [2 * F, 2 * F]), y4]);
  const yf5 = g.op('Reshape', [yf, ints('shape_2fhw', [0, 0, 2, F, HWh])]);
  const yt = g.op('Transpose', [yf5], { perm: [0, 1, 3, 2, 4] }); // [B,C,F,2,H*Wh]
  const yt5 = g.op('Reshape', [yt, ints('shape_2h_inv', [0, 0, 0, 2 * H, Wh])]);
  const yh = g.op('MatMul', [g.floats('idft_h', complexDftBlock(H, true), [2 * H, 2 * H]), yt5]);
  const yh6 = g.op('Reshape', [yh, ints('shape_f2hwh', [0, 0, 0, 2, H, Wh])]);
  const yw = g.op('MatMul', [yh6, g.floats('idft_w', realIdftRight(W), [2, Wh, W])]); // [B,C,F,2,H,W]
  const y = g.op('ReduceSum', [yw, axis3], { keepdims: 0 }); // [B,C,F,H,W]

  // 9. Mean term: y - c sum_k r_k mu_k / d_k(0), c = s a (vp) or s a + s^2 (flow).
  const rCol = g.op('Unsqueeze', [r, axis2]); // [B,K,1]
  const muOverD0 = g.op('Mul', [g.floats('mean', comps.flatMap((c) => c.mean.slice(0, C)), [K, C]), invD0]); // [B,K,C]
  const corr = g.op('ReduceSum', [g.op('Mul', [rCol, muOverD0]), axis1], { keepdims: 0 }); // [B,C]
  const sa = g.op('Mul', [s, a]);
  const coef = g.op('Reshape', [process === 'flow' ? g.op('Add', [sa, g.op('Mul', [s, s])]) : sa, ints('shape_b1', [-1, 1])]);
  const corr5 = g.op('Reshape', [g.op('Mul', [corr, coef]), ints('shape_bc111', [0, C, 1, 1, 1])]);
  const out = g.op('Sub', [y, corr5]);
  g.output(out, OUTPUT_NAME[process], 'float32', ['B', C, F, H, W]);

  const what = process === 'flow' ? 'velocity (rectified flow)' : 'epsilon (VP)';
  return g.toModel({ opset: 17, docString: `Propeller ${fieldMixtureModelName(process)}: exact posterior-mean ${what} denoiser of a Gaussian-field mixture` });
}

/** Name of the shipped model for a process: `field-mixture` (vp) or `field-mixture-flow`. */
export function fieldMixtureModelName(process: NoiseProcess = 'vp'): string {
  return process === 'flow' ? 'field-mixture-flow' : 'field-mixture';
}

/**
 * Manifest of a shipped field-mixture denoiser. For the flow model,
 * `trainSchedule` is kept because the schema requires one: only its
 * `numTrainTimesteps` (the timestep scale, timestep = 1000 t) is used, the
 * betas are not.
 */
export function fieldMixtureManifest(spec: FieldMixtureSpec = {}): DenoiserManifest {
  const comps = spec.components ?? FIELD_COMPONENTS;
  const win = spec.window ?? FIELD_WINDOW;
  const process = spec.process ?? 'vp';
  const flow = process === 'flow';
  return {
    kind: 'denoiser',
    name: fieldMixtureModelName(process),
    description: flow
      ? 'Reference latent video denoiser with an exact posterior mean under rectified flow x_t = (1 - t) x0 + t eps (timestep = 1000 t, output velocity eps - x0): a mixture of stationary Gaussian random fields, one per class.'
      : 'Reference latent video denoiser with an exact posterior mean: a mixture of stationary Gaussian random fields, one per class.',
    file: 'model.onnx',
    latentChannels: win.channels,
    nativeFrames: win.frames,
    nativeHeight: win.height,
    nativeWidth: win.width,
    vaeScale: { spatial: 4, temporal: 1 },
    predictionType: flow ? 'flow' : 'epsilon',
    trainSchedule: { ...(spec.schedule ?? FIELD_TRAIN_SCHEDULE) },
    process,
    defaultScheduler: flow ? { kind: 'flow_euler', config: { shift: 3 } } : { kind: 'ddim', config: {} },
    inputs: { sample: 'sample', timestep: 'timestep', classWeights: 'class_weights' },
    output: OUTPUT_NAME[process],
    classes: comps.map((c) => c.name),
    decoder: 'field-decoder',
    encoder: 'field-encoder',
    maxBatch: 64,
    // Live previews: the decoder's colour function to first order (preview-map.ts); it takes 4 channels.
    ...(win.channels === 4 ? { previewMap: fieldPreviewMap() } : {}),
  };
}
