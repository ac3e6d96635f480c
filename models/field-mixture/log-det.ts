import type { TrainSchedule } from '../../common/noise-schedule.ts';
import type { GraphBuilder } from '../onnx-graph.ts';
import { FIELD_WINDOW, type FieldComponent, type FieldWindow } from './components.ts';
import { halfGridMultiplicity } from './spectrum.ts';
import { FLOW_T_MAX, FLOW_T_MIN, halfGridEigenvalues, logSigmas, type NoiseProcess } from './tables.ts';

/**
 * The log-determinant term of the field-mixture log-likelihoods, as a
 * function of the log signal-to-noise ratio l = log(a^2 / s^2).
 *
 * log p(x_t | k) contains -1/2 sum_f log(a^2 lambda_k + s^2)
 *   = -1/2 (N log s^2 + R_k(l)),   R_k(l) = sum_{c,f} log(1 + e^l lambda_kc(f)).
 * Only differences between components matter to the responsibilities, so the
 * graph uses D_k = R_k - mean_j R_j, which stays accurate in float32 where R_k
 * itself (~1e5 at high SNR) would not.
 *
 * Computing R_k in the graph costs a Log over [B, K, C, N/2] (+60% inference
 * time) and loses accuracy in float32 (log(1 + x) for tiny x), and a table per
 * integer timestep neither covers fractional VP timesteps nor the continuous
 * flow time. So D_k is tabulated in float64 on a uniform grid in l (step
 * LOG_DET_STEP, aligned to multiples of it so all processes share grid
 * points) with its first two derivatives, and the graph evaluates the
 * quintic Hermite interpolant: per grid interval a degree-5 polynomial in
 * u = (l - l_j) / h, whose coefficients are stored. With h = 0.25 the
 * interpolation error is below 3e-5 nats everywhere and below 4e-6 nats for
 * l <= 2 (where responsibilities can be balanced); measured in the tests.
 */

/** Grid step in l = log SNR. */
export const LOG_DET_STEP = 0.25;

/** Hermite data of D_k at grid point j: value, h D', h^2 D'' (each [K]). */
interface GridPoint {
  v: Float64Array;
  d1: Float64Array;
  d2: Float64Array;
}

/**
 * Exact R_k(l), R_k'(l), R_k''(l) relative to their mean over k, in float64.
 * With x = e^l lambda: d/dl log(1 + x) = x / (1 + x) = y and d^2/dl^2 = y (1 - y).
 */
export function relativeLogDetDerivatives(
  components: readonly FieldComponent[],
  logSnr: number,
  win: FieldWindow = FIELD_WINDOW,
  lambda: Float64Array = halfGridEigenvalues(components, win),
): { value: Float64Array; d1: Float64Array; d2: Float64Array } {
  const K = components.length;
  const mult = halfGridMultiplicity(win);
  const n = mult.length;
  const perK = win.channels * n;
  const g = Math.exp(logSnr);
  const value = new Float64Array(K);
  const d1 = new Float64Array(K);
  const d2 = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < perK; j++) {
      const x = g * lambda[k * perK + j]!;
      const m = mult[j % n]!;
      const y = x / (1 + x);
      s0 += m * Math.log1p(x);
      s1 += m * y;
      s2 += m * y * (1 - y);
    }
    value[k] = s0;
    d1[k] = s1;
    d2[k] = s2;
  }
  for (const arr of [value, d1, d2]) {
    const mean = arr.reduce((p, v) => p + v, 0) / K;
    for (let k = 0; k < K; k++) arr[k] = arr[k]! - mean;
  }
  return { value, d1, d2 };
}

/** Range of l = log(a^2 / s^2) a model of `process` can see (timesteps clamped like the graph). */
export function logSnrRange(schedule: TrainSchedule, process: NoiseProcess): [number, number] {
  if (process === 'flow') {
    // l = 2 log((1 - t) / t) is decreasing in t.
    return [2 * Math.log((1 - FLOW_T_MAX) / FLOW_T_MAX), 2 * Math.log((1 - FLOW_T_MIN) / FLOW_T_MIN)];
  }
  // VP: l = -2 log sigma_karras, monotone in t; endpoints at t = T-1 and t = 0.
  const ls = logSigmas(schedule);
  return [-2 * ls[ls.length - 1]!, -2 * ls[0]!];
}

/** Quintic Hermite basis in the power basis: row p = coefficients of u^p for [V0, hD1_0, h^2D2_0, h^2D2_1, hD1_1, V1]. */
const HERMITE5: readonly (readonly number[])[] = [
  [1, 0, 0, 0, 0, 0],
  [0, 1, 0, 0, 0, 0],
  [0, 0, 0.5, 0, 0, 0],
  [-10, -6, -1.5, 0.5, -4, 10],
  [15, 8, 1.5, -1, 7, -15],
  [-6, -3, -0.5, 0.5, -3, 6],
];

/** Piecewise-polynomial table of D_k over a grid in l. */
export interface LogDetTable {
  /** l at grid point 0. */
  origin: number;
  step: number;
  /** Number of intervals. */
  intervals: number;
  /** Coefficients laid out [intervals, 6, K]: D_k(origin + (j + u) step) = sum_p c[j, p, k] u^p. */
  coefficients: Float64Array;
}

/** Single-entry memo: the shipped models are built one after another from the same components. */
let memo: { key: string; points: Map<number, GridPoint> } | undefined;

function gridPoints(components: readonly FieldComponent[], win: FieldWindow): { points: Map<number, GridPoint>; lambda: () => Float64Array } {
  const key = JSON.stringify({ components, win });
  if (memo?.key !== key) memo = { key, points: new Map() };
  let lambda: Float64Array | undefined;
  return { points: memo.points, lambda: () => (lambda ??= halfGridEigenvalues(components, win)) };
}

/** Builds the table covering [lo, hi] (grid aligned to multiples of LOG_DET_STEP). */
export function relativeLogDetTable(
  components: readonly FieldComponent[],
  lo: number,
  hi: number,
  win: FieldWindow = FIELD_WINDOW,
): LogDetTable {
  const h = LOG_DET_STEP;
  const first = Math.floor(lo / h);
  const last = Math.max(first + 1, Math.ceil(hi / h));
  const K = components.length;
  const { points, lambda } = gridPoints(components, win);
  const point = (j: number): GridPoint => {
    let p = points.get(j);
    if (!p) {
      const r = relativeLogDetDerivatives(components, j * h, win, lambda());
      p = { v: r.value, d1: r.d1.map((x) => x * h), d2: r.d2.map((x) => x * h * h) };
      points.set(j, p);
    }
    return p;
  };
  const intervals = last - first;
  const coefficients = new Float64Array(intervals * 6 * K);
  for (let i = 0; i < intervals; i++) {
    const a = point(first + i);
    const b = point(first + i + 1);
    for (let k = 0; k < K; k++) {
      const data = [a.v[k]!, a.d1[k]!, a.d2[k]!, b.d2[k]!, b.d1[k]!, b.v[k]!];
      for (let p = 0; p < 6; p++) {
        coefficients[(i * 6 + p) * K + k] = HERMITE5[p]!.reduce((acc, c, q) => acc + c * data[q]!, 0);
      }
    }
  }
  return { origin: first * h, step: h, intervals, coefficients };
}

/** Evaluates the table at l in float64 (clamped to its range), as the graph does in float32. */
export function evaluateLogDetTable(table: LogDetTable, logSnr: number, K: number): Float64Array {
  const l = Math.min(table.origin + table.intervals * table.step, Math.max(table.origin, logSnr));
  const j = Math.min(table.intervals - 1, Math.floor((l - table.origin) / table.step));
  const u = (l - (table.origin + j * table.step)) / table.step;
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let acc = 0;
    for (let p = 5; p >= 0; p--) acc = acc * u + table.coefficients[(j * 6 + p) * K + k]!;
    out[k] = acc;
  }
  return out;
}

/**
 * Graph nodes: a, s [B] -> D [B, K]. l = 2 log(a / s) from the same float32
 * (a, s) the rest of the graph uses, so the log-likelihoods are those of one
 * consistent noise level; clamped to the table; then the interval's
 * polynomial: Gather [B, 6, K], powers u^0..u^5 [B, 1, 6], one MatMul.
 */
export function logDetGraph(g: GraphBuilder, a: string, s: string, table: LogDetTable, K: number): string {
  const origin = g.floats('ld_origin', [table.origin], []);
  const step = g.floats('ld_step', [table.step], []);
  const logSnr = g.op('Clip', [
    g.op('Mul', [g.floats('ld_two', [2], []), g.op('Log', [g.op('Div', [a, s])])]),
    origin,
    g.floats('ld_end', [table.origin + table.intervals * table.step], []),
  ]);
  const interval = g.op('Min', [
    g.op('Floor', [g.op('Div', [g.op('Sub', [logSnr, origin]), step])]),
    g.floats('ld_last', [table.intervals - 1], []),
  ]);
  // u = (l - l_j) / h with l_j = origin + j h exact in float32 (multiples of h = 2^-2), so the
  // subtraction loses nothing; (l - origin) / h would round u to ulp(j).
  const gridPoint = g.op('Add', [origin, g.op('Mul', [interval, step])]);
  const u = g.op('Div', [g.op('Sub', [logSnr, gridPoint]), step]);
  const coeffs = g.op('Gather', [g.floats('log_det_coefficients', table.coefficients, [table.intervals, 6, K]), g.op('Cast', [interval], { to: 7 })], {
    axis: 0,
  }); // [B,6,K]
  const powers = g.op('Pow', [g.op('Reshape', [u, g.int64s('ld_shape_b11', [-1, 1, 1])]), g.floats('ld_exponents', [0, 1, 2, 3, 4, 5], [6])]); // [B,1,6]
  return g.op('Reshape', [g.op('MatMul', [powers, coeffs]), g.int64s('ld_shape_bk', [0, K])]);
}
