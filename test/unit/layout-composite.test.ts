/**
 * Composite denoiser. The analytic denoiser of per-element Gaussian data
 * x0[g] ~ N(m[g], v[g]) is local (each output element depends only on the same
 * input element), so any window sees exactly what the global model sees and
 * the merged x0 must equal the global x0 for every blend kind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { CompositeDenoiser, type EvaluateWindows, type WindowConditioning, type WindowWork } from '../../coordinator/layout/composite-denoiser.ts';
import { BLEND_KINDS } from '../../coordinator/layout/blend.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import type { LatentDims, Window } from '../../coordinator/layout/types.ts';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';
import { EulerScheduler } from '../../coordinator/sampling/euler.ts';
import { epsFromX0, flowNoiseLevel, type NoiseLevel, type PredictionType } from '../../coordinator/sampling/prediction.ts';
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';

// 3 chunks (frames 0, 4, 8 of 16) x 2 x 2 tiles (0 and 4 of 12) = 12 windows
const DIMS: LatentDims = { channels: 2, frames: 16, height: 12, width: 12 };
const WINDOWS = planWindows(DIMS, { frames: 8, height: 8, width: 8 }, { frames: 4, height: 2, width: 2 });
const SPATIAL = DIMS.frames * DIMS.height * DIMS.width;

/** Data mean and variance of global element (c, f, y, x). */
const dataMean = (c: number, f: number, y: number, x: number): number => Math.sin(0.3 * f + 0.7 * y - 0.2 * x + c);
const dataVar = (c: number, f: number, y: number, x: number): number => 0.2 + 0.1 * ((f + 2 * y + 3 * x + c) % 5);

function posterior(level: NoiseLevel, x: number, m: number, v: number): number {
  const { alpha: a, sigma: s } = level;
  return m + ((a * v) / (a * a * v + s * s)) * (x - a * m);
}

/** Raw model output of type `type` for posterior x0 `x0` at sample `x` (what a perfect network emits). */
function rawOutput(type: PredictionType, level: NoiseLevel, x: number, x0: number): number {
  const { alpha: a, sigma: s } = level;
  const eps = (x - a * x0) / s;
  switch (type) {
    case 'epsilon':
      return eps;
    case 'sample':
      return x0;
    case 'v_prediction':
      return a * eps - s * x0;
    case 'flow':
      return eps - x0;
  }
}

/** Global analytic x0 and eps for a whole latent. */
function globalDenoise(sample: Float32Array, level: NoiseLevel): { x0: Float64Array; eps: Float64Array } {
  const x0 = new Float64Array(sample.length);
  const eps = new Float64Array(sample.length);
  for (let c = 0; c < DIMS.channels; c++) {
    for (let f = 0; f < DIMS.frames; f++) {
      for (let y = 0; y < DIMS.height; y++) {
        for (let x = 0; x < DIMS.width; x++) {
          const g = ((c * DIMS.frames + f) * DIMS.height + y) * DIMS.width + x;
          x0[g] = posterior(level, sample[g]!, dataMean(c, f, y, x), dataVar(c, f, y, x));
          eps[g] = (sample[g]! - level.alpha * x0[g]!) / level.sigma;
        }
      }
    }
  }
  return { x0, eps };
}

/**
 * A perfect per-window model: it learns its window's placement from the
 * conditioning tensor `position` [f0, y0, x0] and the noise level from the timestep.
 */
function windowModel(
  type: PredictionType,
  levelOf: (timestep: number) => NoiseLevel,
  dims: LatentDims,
  frames: number,
  height: number,
  width: number,
): (item: WindowWork) => Float32Array {
  return (item) => {
    const [f0, y0, x0] = item.conditioning!.cond['position']!.data;
    const level = levelOf(item.timestep);
    const out = new Float32Array(item.sample.length);
    let k = 0;
    for (let c = 0; c < dims.channels; c++) {
      for (let f = 0; f < frames; f++) {
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++, k++) {
            const xs = item.sample[k]!;
            const post = posterior(level, xs, dataMean(c, f0 + f, y0 + y, x0 + x), dataVar(c, f0 + f, y0 + y, x0 + x));
            out[k] = rawOutput(type, level, xs, post);
          }
        }
      }
    }
    return out;
  };
}

function counting(model: (item: WindowWork) => Float32Array): { evaluate: EvaluateWindows; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    evaluate: async (items) => {
      calls.push(items.length);
      return items.map(model);
    },
  };
}

const conditioningFor = (w: Window): WindowConditioning => ({ cond: { position: { data: new Float32Array([w.f0, w.y0, w.x0]), shape: [3] } } });

function assertClose(actual: Float32Array, expected: Float64Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let k = 0; k < expected.length; k++) {
    const d = Math.abs(actual[k]! - expected[k]!);
    assert.ok(d <= tol * Math.max(1, Math.abs(expected[k]!)), `${what}[${k}]: ${actual[k]} vs ${expected[k]}`);
  }
}

/** A rectified-flow scheduler stub: just enough of the contract for the denoiser (t_i = 1 - i / n). */
function flowStub(n: number): Scheduler {
  const timesteps = Array.from({ length: n }, (_, i) => 1000 * (1 - i / n));
  return {
    kind: 'flow-stub',
    config: {},
    predictionType: 'flow',
    timesteps,
    numSteps: n,
    initNoiseSigma: 1,
    noiseLevel: (i) => flowNoiseLevel(timesteps[i]! / 1000),
    modelInputScale: () => 1,
    stepDeterministic: () => assert.fail('not used'),
    noiseCoefficient: () => 0,
  };
}

describe('layout - composite denoiser', () => {
  test('the plan is 3 chunks x 2 x 2 tiles', () => {
    assert.equal(WINDOWS.length, 12);
    assert.deepEqual([...new Set(WINDOWS.map((w) => w.f0))], [0, 4, 8]);
    assert.deepEqual([...new Set(WINDOWS.map((w) => w.y0))], [0, 4]);
  });

  test('merged x0 and eps equal the global analytic denoiser (1e-5), one evaluate call per denoise', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const levelOf = (t: number): NoiseLevel => scheduler.noiseLevel(scheduler.timesteps.indexOf(t));
    const sample = new Rng(4).fillNormal(new Float32Array(DIMS.channels * SPATIAL));
    for (const predictionType of ['epsilon', 'sample', 'v_prediction'] as const) {
      for (const blend of BLEND_KINDS) {
        const { evaluate, calls } = counting(windowModel(predictionType, levelOf, DIMS, 8, 8, 8));
        const composite = new CompositeDenoiser({
          dims: DIMS, windows: WINDOWS, blend, predictionType, conditioningFor, evaluate, scheduler,
        });
        for (const step of [0, 5, 9]) {
          const { x0, eps } = await composite.denoise(sample, step);
          const expected = globalDenoise(sample, scheduler.noiseLevel(step));
          assertClose(x0, expected.x0, 1e-5, `${predictionType}/${blend}/step ${step} x0`);
          // eps = (x - a x0) / s amplifies x0's float32 rounding by a/s (about 20 at the last step)
          assertClose(eps, expected.eps, 1e-4, `${predictionType}/${blend}/step ${step} eps`);
        }
        assert.deepEqual(calls, [12, 12, 12]);
      }
    }
  });

  test('flow prediction at flow noise levels {alpha: 1 - t, sigma: t}', async () => {
    const scheduler = flowStub(4);
    const levelOf = (t: number): NoiseLevel => flowNoiseLevel(t / 1000);
    const { evaluate, calls } = counting(windowModel('flow', levelOf, DIMS, 8, 8, 8));
    const composite = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'cosine', predictionType: 'flow', conditioningFor, evaluate, scheduler,
    });
    const sample = new Rng(8).fillNormal(new Float32Array(DIMS.channels * SPATIAL));
    for (const step of [1, 3]) {
      const { x0 } = await composite.denoise(sample, step);
      assertClose(x0, globalDenoise(sample, scheduler.noiseLevel(step)).x0, 1e-5, `flow step ${step}`);
    }
    assert.deepEqual(calls, [12, 12]);
  });

  test('items carry the window, its sample, the step timestep and the window conditioning', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const seen: WindowWork[][] = [];
    const composite = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'sample', conditioningFor, scheduler,
      evaluate: async (items) => {
        seen.push(items);
        return items.map((it) => it.sample);
      },
    });
    const sample = new Rng(1).fillNormal(new Float32Array(DIMS.channels * SPATIAL));
    const { x0 } = await composite.denoise(sample, 3);
    assert.equal(seen.length, 1);
    const items = seen[0]!;
    assert.deepEqual(items.map((it) => it.window), WINDOWS);
    assert.ok(items.every((it) => it.timestep === scheduler.timesteps[3] && it.timestep === 601));
    const last = WINDOWS[11]!; // f0 8, y0 4, x0 4
    assert.deepEqual([...items[11]!.conditioning!.cond['position']!.data], [8, 4, 4]);
    // element (c 1, f 2, y 3, x 1) of the last window is global (1, 10, 7, 5)
    const local = ((1 * 8 + 2) * 8 + 3) * 8 + 1;
    const global = ((1 * 16 + last.f0 + 2) * 12 + last.y0 + 3) * 12 + last.x0 + 1;
    assert.equal(items[11]!.sample[local], sample[global]);
    // a "sample" model echoing its input merges back to the input
    assertClose(x0, Float64Array.from(sample), 1e-6, 'echo');
  });

  test('single window over the whole latent: x0 is the window x0 exactly', async () => {
    const dims: LatentDims = { channels: 3, frames: 4, height: 5, width: 6 };
    const windows = planWindows(dims, { frames: 8, height: 8, width: 8 }, { frames: 2, height: 2, width: 2 });
    assert.equal(windows.length, 1);
    const scheduler = new DdimScheduler({}, 10);
    const { alpha: a, sigma: s } = scheduler.noiseLevel(4);
    const rng = new Rng(12);
    const sample = rng.fillNormal(new Float32Array(3 * 4 * 5 * 6));
    const output = rng.fillNormal(new Float32Array(sample.length));
    for (const blend of BLEND_KINDS) {
      const composite = new CompositeDenoiser({
        dims, windows, blend, predictionType: 'epsilon', conditioningFor, scheduler,
        evaluate: async () => [output],
      });
      const { x0 } = await composite.denoise(sample, 4);
      // x0 = (x - sigma eps) / alpha, rounded once to float32
      const expected = sample.map((x, k) => (x - s * output[k]!) / a);
      assert.deepEqual(x0, expected, blend);
    }
  });

  test('single window over the whole latent: the same x0 and eps as cutting and merging, bit for bit', async () => {
    const dims: LatentDims = { channels: 2, frames: 4, height: 5, width: 6 };
    const windows = planWindows(dims, { frames: 4, height: 5, width: 6 }, { frames: 2, height: 2, width: 2 });
    assert.equal(windows.length, 1);
    // Euler scales the model input (scale_model_input); DDIM does not.
    const schedulers: Scheduler[] = [new DdimScheduler({}, 10), new EulerScheduler({}, 10)];
    const rng = new Rng(31);
    const sample = rng.fillNormal(new Float32Array(2 * 4 * 5 * 6));
    sample[3] = -0; // the merge's float64 sum turns -0 into +0
    const output = rng.fillNormal(new Float32Array(sample.length));
    output[5] = 0;
    for (const scheduler of schedulers) {
      for (const predictionType of ['epsilon', 'sample', 'v_prediction'] as const) {
        const inputs: Float32Array[] = [];
        const composite = new CompositeDenoiser({
          dims, windows, blend: 'cosine', predictionType, conditioningFor, scheduler,
          evaluate: async (items) => {
            inputs.push(items[0]!.sample);
            return [output];
          },
        });
        const got = await composite.denoise(sample, 3);
        // The general path: cut the window out, merge it, eps from the merged x0.
        const step = composite.stepInputs(3);
        const merger = composite.newMerger();
        composite.mergeGroup(merger, await composite.evaluateGroup(sample, 0, 1, step), step);
        const x0 = merger.result();
        const what = `${scheduler.constructor.name} ${predictionType}`;
        assert.deepEqual(inputs[0], inputs[1], `${what}: model input`);
        assert.ok(Buffer.from(got.x0.buffer).equals(Buffer.from(x0.buffer)), `${what}: x0`);
        assert.ok(Buffer.from(got.eps.buffer).equals(Buffer.from(epsFromX0(sample, x0, step.level).buffer)), `${what}: eps`);
      }
    }
  });

  test('sampling through the composite denoiser matches the global denoiser', async () => {
    const scheduler = new DdimScheduler({ eta: 1, setAlphaToOne: true }, 10);
    const levelOf = (t: number): NoiseLevel => scheduler.noiseLevel(scheduler.timesteps.indexOf(t));
    const composite = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'gaussian', predictionType: 'v_prediction', conditioningFor, scheduler,
      evaluate: counting(windowModel('v_prediction', levelOf, DIMS, 8, 8, 8)).evaluate,
    });
    const initial = new Rng(6).fillNormal(new Float32Array(DIMS.channels * SPATIAL));
    const viaWindows = await sampleSequential({ scheduler, denoise: composite.denoise, initial, noise: stepNoise(3) });
    const viaGlobal = await sampleSequential({
      scheduler, initial, noise: stepNoise(3),
      denoise: async (x, step) => {
        const { x0, eps } = globalDenoise(x, scheduler.noiseLevel(step));
        return { x0: Float32Array.from(x0), eps: Float32Array.from(eps) };
      },
    });
    assertClose(viaWindows, Float64Array.from(viaGlobal), 1e-4, 'final sample');
  });

  test('windows are evaluated in groups of windowsPerCall, callsInFlight at once, merged in plan order', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const levelOf = (t: number): NoiseLevel => scheduler.noiseLevel(scheduler.timesteps.indexOf(t));
    const model = windowModel('epsilon', levelOf, DIMS, 8, 8, 8);
    const sample = new Rng(9).fillNormal(new Float32Array(DIMS.channels * SPATIAL));
    const whole = new CompositeDenoiser({ dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'epsilon', conditioningFor, scheduler, evaluate: counting(model).evaluate });
    const expected = await whole.denoise(sample, 5);
    const calls: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const grouped = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'epsilon', conditioningFor, scheduler,
      windowsPerCall: 5, callsInFlight: 2,
      evaluate: async (items) => {
        calls.push(items.map((it) => it.window.index));
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        // Later groups finish first: the merge must still follow the plan order.
        await new Promise((r) => setTimeout(r, 30 - 10 * calls.length));
        inFlight--;
        return items.map(model);
      },
    });
    const got = await grouped.denoise(sample, 5);
    assert.deepEqual(calls, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]);
    assert.equal(maxInFlight, 2);
    assert.deepEqual(got.x0, expected.x0);
    assert.deepEqual(got.eps, expected.eps);
    assert.throws(() => new CompositeDenoiser({ dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'epsilon', conditioningFor, scheduler, evaluate: counting(model).evaluate, windowsPerCall: 0 }), /windowsPerCall must be a positive integer, got 0/);
  });

  test('a failing group rejects the denoise call', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const composite = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'sample', conditioningFor, scheduler, windowsPerCall: 4, callsInFlight: 3,
      evaluate: async (items) => {
        if (items[0]!.window.index === 4) throw new Error('worker exploded');
        return items.map((it) => it.sample);
      },
    });
    await assert.rejects(composite.denoise(new Float32Array(DIMS.channels * SPATIAL), 0), /worker exploded/);
  });

  test('a wrong number of outputs is rejected', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const composite = new CompositeDenoiser({
      dims: DIMS, windows: WINDOWS, blend: 'uniform', predictionType: 'epsilon', conditioningFor, scheduler,
      evaluate: async (items) => items.slice(1).map((it) => it.sample),
    });
    await assert.rejects(composite.denoise(new Float32Array(DIMS.channels * SPATIAL), 0), /11 outputs for 12 windows/);
  });
});
