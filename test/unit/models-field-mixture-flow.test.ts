import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelManifestSchema, type DenoiserManifest } from '../../common/manifest.ts';
import { Rng } from '../../common/rng.ts';
import { FIELD_CLASSES, FIELD_WINDOW_SIZE } from '../../models/field-mixture/components.ts';
import { fieldMixtureReference } from '../../models/field-mixture/reference.ts';
import { noiseLevelAt } from '../../models/field-mixture/tables.ts';
import { ensureReferenceModels, REFERENCE_MODEL_NAMES } from '../../models/registry.ts';
import { relL2 } from '../../common/rel-l2.ts';
import { balancedWindow } from '../helpers/field-balance.ts';

const K = FIELD_CLASSES.length;
const DIMS = [4, 16, 32, 32];

interface Item {
  label: string;
  xt: Float32Array;
  /** Model timestep (flow: 1000 t), as the float32 the graph reads. */
  timestep: number;
  weights: Float32Array;
}

const oneHot = (k: number): number[] => Array.from({ length: K }, (_, j) => (j === k ? 1 : 0));

async function runModel(session: ort.InferenceSession, output: string, items: readonly Item[]): Promise<Float32Array> {
  const B = items.length;
  const sample = new Float32Array(B * FIELD_WINDOW_SIZE);
  const weights = new Float32Array(B * K);
  items.forEach((it, b) => {
    sample.set(it.xt, b * FIELD_WINDOW_SIZE);
    weights.set(it.weights, b * K);
  });
  const out = await session.run({
    sample: new ort.Tensor('float32', sample, [B, ...DIMS]),
    timestep: new ort.Tensor('float32', Float32Array.from(items, (it) => it.timestep), [B]),
    class_weights: new ort.Tensor('float32', weights, [B, K]),
  });
  const y = out[output]!;
  assert.deepEqual(y.dims, [B, ...DIMS]);
  return y.data as Float32Array;
}

describe('field-mixture-flow - rectified-flow denoiser vs float64 reference', () => {
  const ref = fieldMixtureReference('flow');
  const vpRef = fieldMixtureReference('vp');
  let dir: string;
  let flow: ort.InferenceSession;
  let vp: ort.InferenceSession;
  let manifests: Map<string, DenoiserManifest>;
  const items: Item[] = [];

  const run = (list: readonly Item[]): Promise<Float32Array> => runModel(flow, 'velocity', list);

  /** x_t = (1 - t) x0 + t eps at the graph's float32 timestep. */
  function noised(x0: Float32Array, timestep: number, rng: Rng): Float32Array {
    const { alpha, sigma } = ref.noiseLevel(Math.fround(timestep));
    return Float32Array.from(x0, (x) => alpha * x + sigma * rng.normal());
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'propeller-flow-'));
    await ensureReferenceModels(dir);
    manifests = new Map();
    for (const name of ['field-mixture', 'field-mixture-flow']) {
      const m = modelManifestSchema.parse(JSON.parse(await readFile(join(dir, name, 'manifest.json'), 'utf8')));
      assert.equal(m.kind, 'denoiser');
      manifests.set(name, m as DenoiserManifest);
    }
    const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 };
    flow = await ort.InferenceSession.create(join(dir, 'field-mixture-flow', 'model.onnx'), opts);
    vp = await ort.InferenceSession.create(join(dir, 'field-mixture', 'model.onnx'), opts);

    const rng = new Rng(31);
    const cases: [number, number, number[]][] = [
      [0, 0.02, oneHot(0)],
      [1, 0.3, new Array(K).fill(1)],
      [2, 0.7, [0.2, 0.1, 0.3, 0.15, 0.05, 0.2]],
      [3, 0.98, oneHot(3)],
      [4, 0.5, [0, 0.5, 0, 0, 0.5, 0]],
      [5, 0.3, oneHot(1)], // forest sample, conditioned on "fire"
    ];
    for (const [k, t, w] of cases) {
      const timestep = 1000 * t;
      items.push({ label: `${FIELD_CLASSES[k]} t=${t}`, xt: noised(ref.samplePrior(rng, k), timestep, rng), timestep, weights: Float32Array.from(w) });
    }
    // A mixed posterior at t = 0.9 (see test/helpers/field-balance.ts).
    const { xt, weights, pair } = balancedWindow(ref, 900, rng);
    items.push({ label: `balanced ${FIELD_CLASSES[pair[0]]}/${FIELD_CLASSES[pair[1]]} t=0.9`, xt, timestep: 900, weights });
  });

  after(async () => {
    await flow?.release();
    await vp?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is one of the reference models, with a flow manifest matching field-mixture', async () => {
    assert.deepEqual([...REFERENCE_MODEL_NAMES], ['field-mixture', 'field-mixture-flow', 'field-decoder', 'field-encoder']);
    const f = manifests.get('field-mixture-flow')!;
    const v = manifests.get('field-mixture')!;
    assert.equal(f.name, 'field-mixture-flow');
    assert.equal(f.predictionType, 'flow');
    assert.equal(f.process, 'flow');
    assert.deepEqual(f.defaultScheduler, { kind: 'flow_euler', config: { shift: 3 } });
    assert.equal(f.trainSchedule.numTrainTimesteps, 1000);
    assert.equal(v.predictionType, 'epsilon');
    assert.equal(v.process, 'vp');
    assert.deepEqual(v.defaultScheduler, { kind: 'ddim', config: {} });
    for (const key of ['classes', 'inputs', 'latentChannels', 'nativeFrames', 'nativeHeight', 'nativeWidth', 'vaeScale', 'decoder', 'encoder', 'maxBatch'] as const) {
      assert.deepEqual(f[key], v[key], key);
    }
    assert.deepEqual([...flow.inputNames].sort(), [f.inputs.sample, f.inputs.timestep, f.inputs.classWeights!].sort());
    assert.deepEqual(flow.outputNames, [f.output]);
    // Manifests written without the new optional fields still parse.
    const { process: _p, defaultScheduler: _d, ...legacy } = v;
    assert.equal((modelManifestSchema.parse(legacy) as DenoiserManifest).process, undefined);
  });

  it('x0 = x_t - t v from the graph matches the exact posterior mean within 1e-4 relative L2', async (t) => {
    for (const item of items) {
      const v = await run([item]);
      const exact = ref.posterior(item.xt, Math.fround(item.timestep), item.weights);
      const tt = exact.sigma;
      const x0 = Float64Array.from(item.xt, (x, i) => x - tt * v[i]!);
      const err = relL2(x0, exact.x0);
      const vErr = relL2(v, exact.velocity);
      t.diagnostic(`${item.label}: x0 rel err ${err.toExponential(2)}, v rel err ${vErr.toExponential(2)}`);
      assert.ok(err < 1e-4, `${item.label}: x0 relative error ${err}`);
      assert.ok(vErr < 1e-4, `${item.label}: v relative error ${vErr}`);
    }
    const balanced = items[items.length - 1]!;
    const r = [...ref.posterior(balanced.xt, 900, balanced.weights).responsibilities].sort((x, y) => y - x);
    assert.ok(r[1]! > 0.2, `balanced responsibilities ${r.join(', ')}`);
  });

  it('agrees with the VP model at the same signal-to-noise ratio (fractional VP timestep)', async () => {
    // x0 depends on x_t only through x_t / a at fixed a / s: VP at timestep tau and flow at
    // t = s / (a + s) see the same problem after scaling x_t by (1 - t) / a.
    const rng = new Rng(2);
    for (const tau of [120.5, 333.25, 871.75]) {
      const { alpha: a, sigma: s } = noiseLevelAt(vpRef.schedule, tau);
      const timestep = Math.fround((1000 * s) / (a + s));
      const level = ref.noiseLevel(timestep);
      const x0 = ref.samplePrior(rng, 2);
      const xtVp = Float32Array.from(x0, (x) => a * x + s * rng.normal());
      const xtFlow = Float32Array.from(xtVp, (x) => (x * level.alpha) / a);
      const weights = Float32Array.from(new Array(K).fill(1));
      const eps = await runModel(vp, 'epsilon', [{ label: 'vp', xt: xtVp, timestep: tau, weights }]);
      const v = await runModel(flow, 'velocity', [{ label: 'flow', xt: xtFlow, timestep, weights }]);
      const fromVp = Float64Array.from(xtVp, (x, i) => (x - s * eps[i]!) / a);
      const fromFlow = Float64Array.from(xtFlow, (x, i) => x - level.sigma * v[i]!);
      assert.ok(relL2(fromFlow, fromVp) < 1e-4, `tau=${tau}: ${relL2(fromFlow, fromVp)}`);
    }
  });

  it('items with different times are independent of their batch', async () => {
    const batch = await run(items);
    for (let b = 0; b < items.length; b++) {
      const alone = await run([items[b]!]);
      const err = relL2(batch.subarray(b * FIELD_WINDOW_SIZE, (b + 1) * FIELD_WINDOW_SIZE), alone);
      assert.ok(err < 1e-6, `${items[b]!.label}: batch vs alone ${err}`);
    }
  });

  it('clamps t to [1e-4, 1 - 1e-4]: finite at t = 0 and t = 1, equal to the clamped ends', async () => {
    const clean = items[0]!;
    const atZero = await run([{ ...clean, timestep: 0 }]);
    assert.ok(atZero.every(Number.isFinite));
    assert.deepEqual(atZero, await run([{ ...clean, timestep: -5 }]));
    const exact = ref.posterior(clean.xt, 0, clean.weights);
    assert.equal(exact.sigma, 1e-4);
    assert.ok(relL2(atZero, exact.velocity) < 1e-4, `t=0: ${relL2(atZero, exact.velocity)}`);
    const noise = { ...items[items.length - 1]!, timestep: 1000 };
    const atOne = await run([noise]);
    assert.ok(atOne.every(Number.isFinite));
    assert.deepEqual(atOne, await run([{ ...noise, timestep: 1200 }]));
    const exactOne = ref.posterior(noise.xt, 1000, noise.weights);
    assert.ok(relL2(atOne, exactOne.velocity) < 1e-4, `t=1: ${relL2(atOne, exactOne.velocity)}`);
  });
});
