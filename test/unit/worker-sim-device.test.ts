import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/logger.ts';
import { compileWorkerConfig } from '../../worker/config.ts';
import { SimulatedGpu, type SimClock } from '../../worker/sim-device.ts';
import { SIM_PROFILES, modelledSeconds, simProfileOf, type SimProfile } from '../../worker/sim-profiles.ts';

const silent = createLogger('test', { level: 'silent' });

/** A profile of the test's own, so the arithmetic below does not follow the shipped profiles' numbers. */
const PROFILE: SimProfile = { name: 'test', fixedMs: 20, perItemMs: 45, description: 'test profile' };

/** A clock that only moves when told to; sleeps are recorded and end at once (advancing it). */
function fakeClock(): SimClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
    },
  };
  return c;
}

test('sim device - a batch lasts fixed + perItem * items, real compute included', async () => {
  const clock = fakeClock();
  const gpu = new SimulatedGpu(PROFILE, silent, clock);
  clock.t = 1000;
  // 4 items whose real compute took 30 ms: the model says 20 + 4 * 45 = 200 ms, so 170 ms are waited.
  await gpu.afterCompute(4, 0.03);
  assert.equal(clock.slept.length, 1);
  assert.ok(Math.abs(clock.slept[0]! - 170) < 1e-9, `slept ${clock.slept[0]}`);
  assert.equal(gpu.stats.overruns, 0);
  assert.ok(Math.abs(gpu.stats.modelledSeconds - 0.2) < 1e-12);
  const a100 = SIM_PROFILES['a100-video']!;
  assert.equal(modelledSeconds(a100, 8), (a100.fixedMs + 8 * a100.perItemMs) / 1000);
});

test('sim device - one batch at a time: a batch arriving while another runs queues behind it', async () => {
  const clock = fakeClock();
  const gpu = new SimulatedGpu(PROFILE, silent, clock);
  clock.t = 0;
  const first = gpu.afterCompute(1, 0); // runs 0..65 ms
  clock.t = 10; // the second arrived at 5 ms and computed for real in 5 ms
  const second = gpu.afterCompute(2, 0.005); // starts at 65, ends 65 + 110 = 175
  await Promise.all([first, second]);
  assert.deepEqual(clock.slept, [65, 165]);
  assert.equal(gpu.stats.batches, 2);
  assert.equal(gpu.stats.items, 3);
});

test('sim device - real compute longer than the model: no wait, counted as an overrun', async () => {
  const clock = fakeClock();
  const gpu = new SimulatedGpu(PROFILE, silent, clock);
  clock.t = 500;
  await gpu.afterCompute(1, 0.1); // modelled 65 ms, took 100 ms
  assert.deepEqual(clock.slept, []);
  assert.equal(gpu.stats.overruns, 1);
  assert.ok(Math.abs(gpu.stats.overrunSeconds - 0.035) < 1e-9);
  // the GPU is free from now on, not from the modelled end in the past
  await gpu.afterCompute(1, 0);
  assert.deepEqual(clock.slept, [65]);
});

test('sim device - unknown profiles are rejected with the known ones listed', () => {
  assert.throws(() => simProfileOf('sim:b200-video'), /unknown simulated device profile "b200-video" \(known: a100-video, h100-video, h200-video, l40s-video\)/);
  assert.throws(
    () => compileWorkerConfig({ modelDirs: ['x'], device: 'sim:nope' }),
    /worker option device: unknown simulated device profile "nope" \(known: a100-video, h100-video, h200-video, l40s-video\)/,
  );
  assert.throws(() => compileWorkerConfig({ modelDirs: ['x'], device: 'tpu' }), /worker option device: must be cpu, cuda, cuda:N or sim:<profile>, got "tpu"/);
  assert.equal(compileWorkerConfig({ modelDirs: ['x'], device: 'sim:a100-video' }).device, 'sim:a100-video');
  assert.equal(compileWorkerConfig({ modelDirs: ['x'] }).device, 'cpu');
  assert.equal(compileWorkerConfig({ modelDirs: ['x'], device: 'cuda:1' }).device, 'cuda:1');
});
