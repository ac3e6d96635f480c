import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../common/rng.ts';
import { OffsetScheduler, offsetScheduler, skippedSteps } from '../../coordinator/sampling/offset-scheduler.ts';
import { samplePicard } from '../../coordinator/sampling/picard.ts';
import { createPicardPolicy } from '../../coordinator/sampling/picard-policy.ts';
import { createScheduler, SCHEDULER_KINDS } from '../../coordinator/sampling/registry.ts';
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';
import { gaussianDenoiser } from '../helpers/posterior-denoisers.ts';

const N = 20;
/** The data of every run: x0 ~ N(0.5, 0.4^2) per element, denoised exactly. */
const MEAN = 0.5;
const VARIANCE = 0.16;
const vec = (seed: number, n = 32) => new Rng(seed).fillNormal(new Float32Array(n));

for (const kind of SCHEDULER_KINDS) {
  test(`offset scheduler - ${kind}: steps, timesteps and levels are the inner ones shifted by k`, () => {
    const inner: Scheduler = createScheduler(kind, {}, N);
    for (const k of [1, 7, N - 1]) {
      const s = new OffsetScheduler(inner, k);
      assert.equal(s.kind, inner.kind);
      assert.equal(s.numSteps, N - k);
      assert.deepEqual(s.timesteps, inner.timesteps.slice(k));
      assert.equal(s.predictionType, inner.predictionType);
      assert.equal(s.initNoiseSigma, inner.noiseLevel(k).sigma);
      assert.equal(s.config.stepOffset, k);
      const x = vec(1);
      const x0 = vec(2);
      const eps = vec(3);
      for (let i = 0; i < s.numSteps; i++) {
        assert.deepEqual(s.noiseLevel(i), inner.noiseLevel(k + i));
        assert.equal(s.modelInputScale(i), inner.modelInputScale(k + i));
        assert.equal(s.noiseCoefficient(i), inner.noiseCoefficient(k + i));
        assert.deepEqual(s.stepDeterministic(i, x, x0, eps), inner.stepDeterministic(k + i, x, x0, eps));
      }
      // the final level is the inner final level; indices past it throw like any scheduler's
      assert.deepEqual(s.noiseLevel(s.numSteps), inner.noiseLevel(N));
      assert.throws(() => s.noiseLevel(s.numSteps + 1), RangeError);
      assert.throws(() => s.stepDeterministic(s.numSteps, x, x0, eps), RangeError);
      assert.throws(() => s.noiseCoefficient(-1), RangeError);
      assert.throws(() => s.modelInputScale(0.5), RangeError);
      // contract: strictly less noise at every step
      for (let i = 1; i <= s.numSteps; i++) {
        const prev = s.noiseLevel(i - 1);
        const cur = s.noiseLevel(i);
        assert.ok(cur.sigma * prev.alpha < prev.sigma * cur.alpha, `noise-to-signal decreases at ${i}`);
      }
    }
  });
}

test('offset scheduler - offsets outside [0, numSteps) are rejected; 0 returns the inner scheduler', () => {
  const inner = createScheduler('ddim', {}, N);
  assert.equal(offsetScheduler(inner, 0), inner);
  assert.ok(offsetScheduler(inner, 3) instanceof OffsetScheduler);
  for (const bad of [-1, N, N + 1, 1.5]) assert.throws(() => new OffsetScheduler(inner, bad), /step offset must be an integer in \[0, 20\)/);
});

test('offset scheduler - skipped steps follow round((1 - strength) * steps)', () => {
  assert.equal(skippedSteps(1, 30), 0);
  assert.equal(skippedSteps(0, 30), 30);
  assert.equal(skippedSteps(0.6, 30), 12);
  assert.equal(skippedSteps(0.2, 10), 8);
  assert.throws(() => skippedSteps(1.1, 10), /strength must be in \[0, 1\]/);
  assert.throws(() => skippedSteps(Number.NaN, 10), RangeError);
});

test('offset scheduler - the sequential engine from x_k gives the tail of a full deterministic run, bit for bit', async () => {
  for (const kind of ['ddim', 'euler', 'flow_euler'] as const) {
    const inner: Scheduler = createScheduler(kind, {}, N);
    const z = vec(5);
    const initial = z.map((v) => v * inner.initNoiseSigma);
    const full = await sampleSequential({ scheduler: inner, denoise: gaussianDenoiser(inner, MEAN, VARIANCE), initial, noise: stepNoise(1) });
    // the first k steps by hand, exactly as the engine does them
    const k = 6;
    let x: Float32Array = Float32Array.from(initial);
    const den = gaussianDenoiser(inner, MEAN, VARIANCE);
    for (let i = 0; i < k; i++) {
      const { x0, eps } = await den(x, i);
      x = inner.stepDeterministic(i, x, x0, eps);
    }
    const offset = new OffsetScheduler(inner, k);
    const tail = await sampleSequential({ scheduler: offset, denoise: gaussianDenoiser(offset, MEAN, VARIANCE), initial: x, noise: stepNoise(1) });
    assert.deepEqual(tail, full, kind);
  }
});

test('offset scheduler - Picard at p = 1 equals sequential on an offset stochastic schedule', async () => {
  const offset = new OffsetScheduler(createScheduler('ddpm', {}, N), 8);
  const initial = vec(6).map((v) => v * offset.initNoiseSigma);
  const seq = await sampleSequential({ scheduler: offset, denoise: gaussianDenoiser(offset, MEAN, VARIANCE), initial, noise: stepNoise(9) });
  const pic = await samplePicard({ scheduler: offset, denoise: gaussianDenoiser(offset, MEAN, VARIANCE), initial, noise: stepNoise(9), window: 1, policy: createPicardPolicy('paradigms', 0.1) });
  assert.deepEqual(pic.sample, seq);
});
