/**
 * Sequential engine: DDIM with the exact denoiser of a Gaussian data
 * distribution x0 ~ N(m, v) (per element), for which
 *   E[x0 | x_t] = m + a v / (a^2 v + s^2) (x - a m),
 * so sampling quality depends only on the scheduler and the engine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';
import { addScaledNoise } from '../../coordinator/sampling/scheduler.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';
import { moments } from '../helpers/moments.ts';
import { gaussianDenoiser } from '../helpers/posterior-denoisers.ts';

const N = 200_000;
const M = 0.5;
const V = 1;

describe('sequential - DDIM eta = 0 on Gaussian data', () => {
  test('maps N(0, 1) noise to N(m, v): mean within 0.05, variance within 8%', async () => {
    // Tolerances: x_T ~ N(0, 1) ignores the residual signal sqrt(abar_981) m = 0.076 m, and DDIM is
    // first order (50 steps of the SD schedule shrink the variance by ~5.5% for v = 1).
    const scheduler = new DdimScheduler({ eta: 0 }, 50);
    const initial = new Rng(1).fillNormal(new Float32Array(N));
    const out = await sampleSequential({
      scheduler,
      denoise: gaussianDenoiser(scheduler, M, V),
      initial,
      noise: () => assert.fail('eta = 0 must not draw noise'),
    });
    const { mean, variance } = moments(out);
    assert.ok(Math.abs(mean - M) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(variance / V - 1) < 0.08, `variance ${variance}`);
  });

  test('matches the closed-form DDIM map x -> A x + B from the exact marginal, within sampling error', async () => {
    // Each step is affine for Gaussian data: x0 = m + g (x - a m), eps = (x - a x0) / s,
    // x' = a' x0 + s' eps  =>  A = a' g + s' (1 - a g) / s,  B = (a' - s' a / s) (m - g a m).
    // a', s' = the next step's level (leading, 1000 / 50 = 20 exactly), and sqrt(abar_0), for
    // setAlphaToOne false, at the end: abar_0 = 1 - 0.00085.
    const scheduler = new DdimScheduler({ eta: 0, setAlphaToOne: false }, 50);
    const l0 = scheduler.noiseLevel(0);
    const sd0 = Math.sqrt(l0.alpha ** 2 * V + l0.sigma ** 2);
    const initial = new Rng(2).fillNormal(new Float32Array(N)).map((z) => l0.alpha * M + sd0 * z);
    let mean = l0.alpha * M;
    let sd = sd0;
    for (let i = 0; i < 50; i++) {
      const { alpha: a, sigma: s } = scheduler.noiseLevel(i);
      const ap = i < 49 ? scheduler.noiseLevel(i + 1).alpha : Math.sqrt(0.99915);
      const sp = Math.sqrt(1 - ap * ap);
      const g = (a * V) / (a * a * V + s * s);
      const A = ap * g + (sp * (1 - a * g)) / s;
      const B = (ap - (sp * a) / s) * (M - g * a * M);
      mean = A * mean + B;
      sd = A * sd;
    }
    const out = await sampleSequential({
      scheduler,
      denoise: gaussianDenoiser(scheduler, M, V),
      initial,
      noise: () => assert.fail('eta = 0 must not draw noise'),
    });
    const got = moments(out);
    // sampling error: mean sd/sqrt(N) = 0.0022, variance sd^2 sqrt(2/N) = 0.3%
    assert.ok(Math.abs(got.mean - mean) < 0.01, `mean ${got.mean} vs ${mean}`);
    assert.ok(Math.abs(got.variance / (sd * sd) - 1) < 0.015, `variance ${got.variance} vs ${sd * sd}`);
    // and the map itself is close to the data distribution
    assert.ok(Math.abs(mean - M) < 1e-3, `predicted mean ${mean}`);
    assert.ok(Math.abs(sd * sd - V) < 0.08 * V, `predicted variance ${sd * sd}`);
  });
});

describe('sequential - engine mechanics', () => {
  test('eta = 1 is deterministic given the seed; noise drawn only where c_i != 0', async () => {
    const scheduler = new DdimScheduler({ eta: 1, setAlphaToOne: true }, 20);
    const initial = new Rng(3).fillNormal(new Float32Array(512));
    const run = async (seed: number, calls: number[] = []): Promise<Float32Array> => {
      const draw = stepNoise(seed);
      return sampleSequential({
        scheduler,
        denoise: gaussianDenoiser(scheduler, M, V),
        initial,
        noise: (step, out) => {
          calls.push(step);
          draw(step, out);
        },
      });
    };
    const calls: number[] = [];
    const a = await run(42, calls);
    const b = await run(42);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, await run(43));
    // the last step lands on abar = 1 with variance (0 / ...) = 0, so it draws nothing
    assert.equal(scheduler.noiseCoefficient(19), 0);
    assert.deepEqual(calls, Array.from({ length: 19 }, (_, i) => i));
    const deterministic = new DdimScheduler({ eta: 0, setAlphaToOne: true }, 20);
    const c = await sampleSequential({
      scheduler: deterministic,
      denoise: gaussianDenoiser(deterministic, M, V),
      initial,
      noise: stepNoise(42),
    });
    assert.notDeepEqual(a, c);
  });

  test('step noise z_i = Rng(seed, 1000 + i), independent of draw order', () => {
    const noise = stepNoise(9);
    const late = new Float32Array(8);
    noise(5, late);
    const early = new Float32Array(8);
    noise(3, early);
    assert.deepEqual(late, new Rng(9, 1005).fillNormal(new Float32Array(8)));
    assert.deepEqual(early, new Rng(9, 1003).fillNormal(new Float32Array(8)));
    const again = new Float32Array(8);
    noise(5, again);
    assert.deepEqual(again, late);
    assert.notDeepEqual(early, late);
  });

  test('reproduces a hand-written loop bit for bit, reports progress, leaves initial untouched', async () => {
    const scheduler = new DdimScheduler({ eta: 0.7, timestepSpacing: 'trailing' }, 8);
    const initial = new Rng(5).fillNormal(new Float32Array(64));
    const before = Float32Array.from(initial);
    const denoise = gaussianDenoiser(scheduler, -0.3, 0.6);
    const steps: number[] = [];
    const progress: string[] = [];
    const out = await sampleSequential({
      scheduler,
      denoise: (x, i, s) => {
        steps.push(i);
        return denoise(x, i, s);
      },
      initial,
      noise: stepNoise(11),
      onStep: (step, total) => progress.push(`${step}/${total}`),
    });
    assert.deepEqual(initial, before);
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(progress, ['1/8', '2/8', '3/8', '4/8', '5/8', '6/8', '7/8', '8/8']);
    let x: Float32Array = Float32Array.from(initial);
    const z = new Float32Array(64);
    for (let i = 0; i < 8; i++) {
      const { x0, eps } = await denoise(x, i);
      x = scheduler.stepDeterministic(i, x, x0, eps);
      const c = scheduler.noiseCoefficient(i);
      if (c !== 0) addScaledNoise(x, c, new Rng(11, 1000 + i).fillNormal(z));
    }
    assert.deepEqual(out, x);
  });

  test('abort rejects with the signal reason and stops evaluating', async () => {
    const scheduler = new DdimScheduler({}, 10);
    const controller = new AbortController();
    const steps: number[] = [];
    const denoise = gaussianDenoiser(scheduler, 0, 1);
    const run = sampleSequential({
      scheduler,
      denoise: async (x, i, s) => {
        steps.push(i);
        if (i === 2) controller.abort(new Error('cancelled by user'));
        return denoise(x, i, s);
      },
      initial: new Float32Array(4),
      noise: stepNoise(1),
      signal: controller.signal,
    });
    await assert.rejects(run, /cancelled by user/);
    assert.deepEqual(steps, [0, 1, 2]);
  });
});
