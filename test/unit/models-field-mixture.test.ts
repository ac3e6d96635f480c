import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelManifestSchema } from '../../common/manifest.ts';
import { Rng } from '../../common/rng.ts';
import { FIELD_CLASSES, FIELD_COMPONENTS, FIELD_WINDOW_SIZE } from '../../models/field-mixture/components.ts';
import { fieldMixtureReference } from '../../models/field-mixture/reference.ts';
import { ensureReferenceModels } from '../../models/registry.ts';
import { relL2 } from '../../common/rel-l2.ts';
import { balancedWindow } from '../helpers/field-balance.ts';

const K = FIELD_CLASSES.length;
const SHAPE1 = [1, 4, 16, 32, 32];

interface Item {
  label: string;
  xt: Float32Array;
  timestep: number;
  weights: Float32Array;
}

function oneHot(k: number): number[] {
  return Array.from({ length: K }, (_, j) => (j === k ? 1 : 0));
}

describe('field-mixture - ONNX graph vs float64 reference', () => {
  const ref = fieldMixtureReference();
  let dir: string;
  let session: ort.InferenceSession;

  async function run(items: readonly Item[]): Promise<Float32Array> {
    const B = items.length;
    const sample = new Float32Array(B * FIELD_WINDOW_SIZE);
    const timestep = new Float32Array(B);
    const weights = new Float32Array(B * K);
    items.forEach((it, b) => {
      sample.set(it.xt, b * FIELD_WINDOW_SIZE);
      timestep[b] = it.timestep;
      weights.set(it.weights, b * K);
    });
    const out = await session.run({
      sample: new ort.Tensor('float32', sample, [B, ...SHAPE1.slice(1)]),
      timestep: new ort.Tensor('float32', timestep, [B]),
      class_weights: new ort.Tensor('float32', weights, [B, K]),
    });
    const eps = out['epsilon']!;
    assert.deepEqual(eps.dims, [B, ...SHAPE1.slice(1)]);
    return eps.data as Float32Array;
  }

  /** x0 implied by the graph's epsilon, x0 = (x_t - s eps) / a, in float64 (at the float32 timestep the graph saw). */
  function impliedX0(item: Item, eps: Float32Array): Float64Array {
    const { alpha, sigma } = ref.noiseLevel(Math.fround(item.timestep));
    return Float64Array.from(item.xt, (x, i) => (x - sigma * eps[i]!) / alpha);
  }

  function noised(x0: Float32Array, timestep: number, rng: Rng): Float32Array {
    const { alpha, sigma } = ref.noiseLevel(Math.fround(timestep));
    return Float32Array.from(x0, (x) => alpha * x + sigma * rng.normal());
  }

  /** A genuinely mixed posterior at `timestep` (see test/helpers/field-balance.ts). */
  function balancedItem(timestep: number, rng: Rng): Item {
    const { xt, weights, pair } = balancedWindow(ref, timestep, rng);
    return { label: `balanced ${FIELD_CLASSES[pair[0]]}/${FIELD_CLASSES[pair[1]]} t=${timestep}`, xt, timestep, weights };
  }

  const items: Item[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'propeller-models-'));
    await ensureReferenceModels(dir);
    session = await ort.InferenceSession.create(join(dir, 'field-mixture', 'model.onnx'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const rng = new Rng(20240611);
    const cases: [number, number, number[]][] = [
      [0, 10, oneHot(0)],
      [1, 200, new Array(K).fill(1)],
      [2, 500, oneHot(2)],
      [3, 900, [0.2, 0.1, 0.3, 0.15, 0.05, 0.2]],
      [4, 999, [0, 0.5, 0, 0, 0.5, 0]],
      [5, 50, oneHot(1)], // forest sample, conditioned on "fire"
      // Fractional timesteps (Euler / Karras schedulers): log-sigma interpolated between training steps.
      [3, 10.5, oneHot(3)],
      [1, 333.25, new Array(K).fill(1)],
      [4, 998.9, [0.1, 0.2, 0.3, 0.1, 0.2, 0.1]],
      [0, 0.37, [0.5, 0, 0, 0, 0, 0.5]],
    ];
    for (const [k, t, w] of cases) {
      items.push({ label: `${FIELD_CLASSES[k]} t=${t}`, xt: noised(ref.samplePrior(rng, k), t, rng), timestep: t, weights: Float32Array.from(w) });
    }
    items.push({ label: 'pure noise t=999', xt: rng.fillNormal(new Float32Array(FIELD_WINDOW_SIZE)), timestep: 999, weights: Float32Array.from(new Array(K).fill(1 / K)) });
    // Mixed posteriors make the log-determinant term matter (interpolated over log SNR, see log-det.ts).
    items.push(balancedItem(977.7, rng));
    items.push(balancedItem(980, rng));
  });

  after(async () => {
    await session?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('manifest parses and names the graph inputs and output', async () => {
    const manifest = modelManifestSchema.parse(JSON.parse(await readFile(join(dir, 'field-mixture', 'manifest.json'), 'utf8')));
    assert.equal(manifest.kind, 'denoiser');
    if (manifest.kind !== 'denoiser') return;
    assert.deepEqual(manifest.classes, ['clouds', 'fire', 'ocean', 'aurora', 'lava', 'forest']);
    assert.deepEqual([...session.inputNames].sort(), [manifest.inputs.sample, manifest.inputs.timestep, manifest.inputs.classWeights!].sort());
    assert.deepEqual(session.outputNames, [manifest.output]);
    assert.equal(manifest.predictionType, 'epsilon');
    assert.deepEqual(
      [manifest.latentChannels, manifest.nativeFrames, manifest.nativeHeight, manifest.nativeWidth],
      [4, 16, 32, 32],
    );
  });

  it('x0 from the graph matches the exact posterior mean within 1e-4 relative L2', async (t) => {
    let worst = 0;
    for (const item of items) {
      const eps = await run([item]);
      const exact = ref.posterior(item.xt, Math.fround(item.timestep), item.weights);
      const err = relL2(impliedX0(item, eps), exact.x0);
      // x0 = (x_t - s eps) / a multiplies eps's float32 rounding by s / a: 2600 at t = 999 (a = 3.8e-4).
      // Up to s / a = 100 (a > 0.01, t < ~810) x0 itself must be within 1e-4; beyond, eps bounds it.
      const { alpha, sigma } = ref.noiseLevel(Math.fround(item.timestep));
      const amplification = Math.max(1, sigma / alpha / 100);
      if (amplification === 1) worst = Math.max(worst, err);
      assert.ok(err < 1e-4 * amplification, `${item.label}: x0 relative error ${err}`);
      const epsErr = relL2(eps, exact.epsilon);
      assert.ok(epsErr < 1e-4, `${item.label}: eps relative error ${epsErr}`);
      t.diagnostic(`${item.label}: x0 rel err ${err.toExponential(2)}, eps rel err ${epsErr.toExponential(2)}`);
    }
    // The balanced items really exercise a mixed posterior.
    for (const balanced of items.filter((it) => it.label.startsWith('balanced'))) {
      const r = ref.posterior(balanced.xt, Math.fround(balanced.timestep), balanced.weights).responsibilities;
      const sorted = [...r].sort((x, y) => y - x);
      assert.ok(sorted[1]! > 0.2, `${balanced.label} responsibilities ${[...r].join(', ')}`);
      t.diagnostic(`${balanced.label} responsibilities ${sorted.slice(0, 2).map((v) => v.toFixed(4)).join(' / ')}`);
    }
    assert.ok(worst < 1e-4);
  });

  it('one-hot conditioning pulls a mismatched sample towards the prompted component at high noise', async () => {
    const rng = new Rng(5);
    const forest = ref.samplePrior(rng, 5);
    // t = 800: a = 0.011, where x0 = (x_t - s eps) / a is still accurate in float32 (see above).
    const item: Item = { label: 'forest as fire t=800', xt: noised(forest, 800, rng), timestep: 800, weights: Float32Array.from(oneHot(1)) };
    const exact = ref.posterior(item.xt, item.timestep, item.weights);
    assert.deepEqual([...exact.responsibilities], oneHot(1));
    const x0 = impliedX0(item, await run([item]));
    assert.ok(relL2(x0, exact.x0) < 1e-4);
    // Channel 0 of the posterior mean sits near fire's mean, not forest's.
    const [fireMean, forestMean] = [FIELD_COMPONENTS[1]!.mean[0], FIELD_COMPONENTS[5]!.mean[0]];
    const frame = 16 * 32 * 32;
    let mean0 = 0;
    for (let i = 0; i < frame; i++) mean0 += x0[i]! / frame;
    assert.ok(Math.abs(mean0 - fireMean) < 0.25 * Math.abs(fireMean - forestMean), `channel-0 mean ${mean0} (fire ${fireMean}, forest ${forestMean})`);
  });

  it('items are independent of their batch', async () => {
    const picks = [items[0]!, items[3]!, items[6]!];
    const batch = await run(picks);
    for (let b = 0; b < picks.length; b++) {
      const alone = await run([picks[b]!]);
      const err = relL2(batch.subarray(b * FIELD_WINDOW_SIZE, (b + 1) * FIELD_WINDOW_SIZE), alone);
      assert.ok(err < 1e-6, `${picks[b]!.label}: batch vs alone ${err}`);
    }
  });

  it('interpolates fractional timesteps, clamps out-of-range ones, and treats all-zero or negative weights as documented', async () => {
    const base = items[2]!; // t = 500
    const exact = await run([base]);
    // A fractional timestep is a different noise level, continuous in t.
    const near = await run([{ ...base, timestep: 500.001 }]);
    const between = await run([{ ...base, timestep: 500.5 }]);
    assert.notDeepEqual(between, exact);
    assert.ok(relL2(near, exact) < 1e-5, `t=500.001 vs 500: ${relL2(near, exact)}`);
    const e499 = relL2(await run([{ ...base, timestep: 499 }]), exact);
    assert.ok(relL2(between, exact) > 0.2 * e499 && relL2(between, exact) < e499, 'half a step moves about half as far');
    // Out-of-range timesteps clamp to [0, 999], like the reference.
    assert.deepEqual(await run([{ ...base, timestep: 1500 }]), await run([{ ...base, timestep: 999 }]));
    assert.deepEqual(await run([{ ...base, timestep: -3 }]), await run([{ ...base, timestep: 0 }]));

    const noise = items[6]!;
    const uniform = await run([noise]);
    const zeros = await run([{ ...noise, weights: new Float32Array(K) }]);
    assert.ok(relL2(zeros, uniform) < 1e-6, 'all-zero weights act as uniform');
    const negative = Float32Array.from(oneHot(2), (v) => (v === 0 ? -1 : v));
    const clamped = await run([{ ...noise, weights: negative }]);
    const oneHotOut = await run([{ ...noise, weights: Float32Array.from(oneHot(2)) }]);
    assert.ok(relL2(clamped, oneHotOut) < 1e-6, 'negative weights clamp to zero');
  });
});
