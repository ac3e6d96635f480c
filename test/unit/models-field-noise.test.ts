import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { alphasCumprod, type TrainSchedule } from '../../common/noise-schedule.ts';
import { Rng } from '../../common/rng.ts';
import { FIELD_COMPONENTS } from '../../models/field-mixture/components.ts';
import {
  evaluateLogDetTable,
  logDetGraph,
  logSnrRange,
  relativeLogDetDerivatives,
  relativeLogDetTable,
} from '../../models/field-mixture/log-det.ts';
import { noiseLevelGraph } from '../../models/field-mixture/noise-graph.ts';
import { FIELD_TRAIN_SCHEDULE, FLOW_T_MAX, FLOW_T_MIN, logSigmas, noiseLevelAt, type NoiseProcess } from '../../models/field-mixture/tables.ts';
import { GraphBuilder } from '../../models/onnx-graph.ts';

const SCHEDULE = FIELD_TRAIN_SCHEDULE;
const K = FIELD_COMPONENTS.length;

/** diffusers' `EulerDiscreteScheduler._sigma_to_t`, written out independently of models/. */
function sigmaToT(sigma: number, schedule: TrainSchedule): number {
  const abar = alphasCumprod(schedule);
  const logSig = Array.from(abar, (ab) => Math.log(Math.sqrt((1 - ab) / ab)));
  const ls = Math.log(sigma);
  // low_idx = cumsum(ls - log_sigmas >= 0).argmax().clip(max=T-2)
  let low = 0;
  for (let i = 0; i < logSig.length; i++) if (ls - logSig[i]! >= 0) low = i;
  low = Math.min(low, logSig.length - 2);
  const w = Math.min(1, Math.max(0, (logSig[low]! - ls) / (logSig[low]! - logSig[low + 1]!)));
  return (1 - w) * low + w * (low + 1);
}

/** Runs a one-input graph over a float32 vector and returns its named float32 outputs. */
async function runGraph(g: GraphBuilder, feeds: Record<string, Float32Array>, outputs: string[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(g.toModel(), { intraOpNumThreads: 1 });
  try {
    const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v, [v.length])]));
    const out = await session.run(tensors);
    return outputs.map((o) => out[o]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

describe('field-mixture - noise levels at fractional timesteps', () => {
  it('integer VP timesteps give the training table exactly', () => {
    const abar = alphasCumprod(SCHEDULE);
    for (const t of [0, 1, 17, 500, 998, 999]) {
      const { alpha, sigma } = noiseLevelAt(SCHEDULE, t);
      assert.equal(alpha, Math.sqrt(abar[t]!));
      assert.equal(sigma, Math.sqrt(1 - abar[t]!));
    }
  });

  it("fractional VP timesteps invert diffusers' _sigma_to_t, continuously, with alpha^2 + sigma^2 = 1", () => {
    const rng = new Rng(7);
    const ls = logSigmas(SCHEDULE);
    for (let i = 0; i < 200; i++) {
      // Karras sigma log-uniform over the training range -> t -> back.
      const sigmaK = Math.exp(ls[0]! + rng.uniform() * (ls[999]! - ls[0]!));
      const t = sigmaToT(sigmaK, SCHEDULE);
      const { alpha, sigma } = noiseLevelAt(SCHEDULE, t);
      assert.ok(Math.abs(sigma / alpha / sigmaK - 1) < 1e-12, `sigma ${sigmaK}: t ${t} gives ${sigma / alpha}`);
      assert.ok(Math.abs(alpha * alpha + sigma * sigma - 1) < 1e-14);
      // And t -> sigma -> t.
      const t2 = rng.uniform() * 999;
      const l2 = noiseLevelAt(SCHEDULE, t2);
      assert.ok(Math.abs(sigmaToT(l2.sigma / l2.alpha, SCHEDULE) - t2) < 1e-9, `t ${t2}`);
    }
    for (const t of [1, 10, 500, 998]) {
      for (const dt of [-1e-9, 1e-9]) {
        const a = noiseLevelAt(SCHEDULE, t + dt);
        const b = noiseLevelAt(SCHEDULE, t);
        assert.ok(Math.abs(a.sigma / b.sigma - 1) < 1e-8, `continuous at ${t}${dt > 0 ? '+' : '-'}`);
      }
    }
  });

  it('clamps VP timesteps to [0, T-1] and flow time to [FLOW_T_MIN, FLOW_T_MAX]', () => {
    assert.deepEqual(noiseLevelAt(SCHEDULE, -5), noiseLevelAt(SCHEDULE, 0));
    assert.deepEqual(noiseLevelAt(SCHEDULE, 1e4), noiseLevelAt(SCHEDULE, 999));
    assert.deepEqual(noiseLevelAt(SCHEDULE, 300, 'flow'), { alpha: 0.7, sigma: 0.3 });
    assert.deepEqual(noiseLevelAt(SCHEDULE, 0, 'flow'), { alpha: 1 - FLOW_T_MIN, sigma: FLOW_T_MIN });
    assert.deepEqual(noiseLevelAt(SCHEDULE, 1000, 'flow'), { alpha: 1 - FLOW_T_MAX, sigma: FLOW_T_MAX });
    assert.throws(() => noiseLevelAt(SCHEDULE, Number.NaN), RangeError);
  });

  it('the graph computes the same (a, s) in float32, and the float32 table values at integer timesteps', async () => {
    const rng = new Rng(13);
    const timesteps = Float32Array.from([0, 1, 499, 999, 0.25, 10.5, 333.25, 998.9, 999.5, -1, 1200, ...Array.from({ length: 40 }, () => rng.uniform() * 999)]);
    for (const process of ['vp', 'flow'] as NoiseProcess[]) {
      const ts = process === 'flow' ? Float32Array.from([0, 0.05, 20, 300, 700, 980, 999.95, 1000, 1500, ...timesteps.subarray(11)]) : timesteps;
      const g = new GraphBuilder('levels');
      const { a, s } = noiseLevelGraph(g, g.input('timestep', 'float32', ['B']), SCHEDULE, process);
      g.output(a, 'a', 'float32', ['B']);
      g.output(s, 's', 'float32', ['B']);
      const [ga, gs] = await runGraph(g, { timestep: ts }, ['a', 's']);
      ts.forEach((t, i) => {
        const want = noiseLevelAt(SCHEDULE, t, process);
        const exact = process === 'vp' && Number.isInteger(t) && t >= 0 && t <= 999;
        if (exact) {
          assert.equal(ga![i], Math.fround(want.alpha), `${process} t=${t}: a`);
          assert.equal(gs![i], Math.fround(want.sigma), `${process} t=${t}: s`);
        } else {
          assert.ok(Math.abs(ga![i]! / want.alpha - 1) < 1e-6, `${process} t=${t}: a ${ga![i]} vs ${want.alpha}`);
          assert.ok(Math.abs(gs![i]! / want.sigma - 1) < 1e-6, `${process} t=${t}: s ${gs![i]} vs ${want.sigma}`);
        }
      });
    }
  });
});

describe('field-mixture - log-determinant table over log SNR', () => {
  const ranges: [NoiseProcess, [number, number]][] = [
    ['vp', logSnrRange(SCHEDULE, 'vp')],
    ['flow', logSnrRange(SCHEDULE, 'flow')],
  ];

  it('covers each process: VP from t = 999 to t = 0, flow from t = 1 - 1e-4 to 1e-4', () => {
    const vp = ranges[0]![1];
    const lvl = (t: number): number => {
      const { alpha, sigma } = noiseLevelAt(SCHEDULE, t);
      return 2 * Math.log(alpha / sigma);
    };
    assert.ok(Math.abs(vp[0] - lvl(999)) < 1e-12 && Math.abs(vp[1] - lvl(0)) < 1e-12);
    const flow = ranges[1]![1];
    assert.ok(Math.abs(flow[1] - 2 * Math.log((1 - 1e-4) / 1e-4)) < 1e-12 && Math.abs(flow[0] + flow[1]) < 1e-9);
  });

  it('quintic Hermite interpolation is within 3e-5 nats of the exact float64 value (4e-6 at log SNR <= 2)', (t) => {
    const rng = new Rng(21);
    for (const [process, [lo, hi]] of ranges) {
      const table = relativeLogDetTable(FIELD_COMPONENTS, lo, hi);
      let worst = 0;
      let worstLow = 0;
      for (let i = 0; i < 30; i++) {
        const l = lo + rng.uniform() * (hi - lo);
        const exact = relativeLogDetDerivatives(FIELD_COMPONENTS, l).value;
        const approx = evaluateLogDetTable(table, l, K);
        const err = Math.max(...exact.map((v, k) => Math.abs(v - approx[k]!)));
        worst = Math.max(worst, err);
        if (l <= 2) worstLow = Math.max(worstLow, err);
      }
      t.diagnostic(`${process}: worst ${worst.toExponential(2)} nats, at log SNR <= 2 ${worstLow.toExponential(2)}`);
      assert.ok(worst < 3e-5, `${process}: ${worst}`);
      assert.ok(worstLow < 4e-6, `${process}: ${worstLow}`);
      // Grid points reproduce the exact values.
      const at = Math.ceil(lo / table.step) * table.step;
      const exact = relativeLogDetDerivatives(FIELD_COMPONENTS, at).value;
      evaluateLogDetTable(table, at, K).forEach((v, k) => assert.ok(Math.abs(v - exact[k]!) < 1e-9 * (1 + Math.abs(exact[k]!))));
    }
  });

  it('the graph evaluates the table like the float64 evaluator, to float32 accuracy', async () => {
    const rng = new Rng(5);
    for (const [process, [lo, hi]] of ranges) {
      const table = relativeLogDetTable(FIELD_COMPONENTS, lo, hi);
      const n = 40;
      // (a, s) at known log SNRs, plus the ends and beyond (clamped).
      const ls = Float64Array.from({ length: n }, (_, i) => (i < 2 ? [lo - 1, hi + 1][i]! : lo + rng.uniform() * (hi - lo)));
      const a = Float32Array.from(ls, (l) => 1 / Math.sqrt(1 + Math.exp(-l)));
      const s = Float32Array.from(ls, (l) => Math.exp(-l / 2) / Math.sqrt(1 + Math.exp(-l)));
      const g = new GraphBuilder('log_det');
      const out = logDetGraph(g, g.input('a', 'float32', ['B']), g.input('s', 'float32', ['B']), table, K);
      g.output(out, 'd', 'float32', ['B', K]);
      const [d] = await runGraph(g, { a, s }, ['d']);
      for (let i = 0; i < n; i++) {
        // Evaluate at the log SNR of the float32 (a, s) the graph saw.
        const want = evaluateLogDetTable(table, 2 * Math.log(a[i]! / s[i]!), K);
        const scale = Math.max(1, ...want.map(Math.abs));
        want.forEach((v, k) => assert.ok(Math.abs(d![i * K + k]! - v) < 2e-6 * scale, `${process} l=${ls[i]} k=${k}: ${d![i * K + k]} vs ${v}`));
      }
    }
  });
});
