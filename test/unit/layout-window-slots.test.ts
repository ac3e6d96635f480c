import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { CompositeDenoiser, type EvaluateWindows } from '../../coordinator/layout/composite-denoiser.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import { WindowSlots } from '../../coordinator/layout/window-slots.ts';
import type { LatentDims } from '../../coordinator/layout/types.ts';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';

test('window slots - in order, all or nothing per request, abortable', async () => {
  const slots = new WindowSlots(10);
  assert.equal(slots.tryAcquire(6), true);
  const order: string[] = [];
  const a = slots.acquire(6).then(() => order.push('a'));
  // b would fit after a's turn only: the queue keeps order even when 4 are free now.
  assert.equal(slots.tryAcquire(4), false, 'nobody jumps the queue');
  const b = slots.acquire(4).then(() => order.push('b'));
  const ctl = new AbortController();
  const c = slots.acquire(10, ctl.signal);
  ctl.abort(new Error('gone'));
  await assert.rejects(c, /gone/);
  slots.release(6);
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(slots.inUse, 10);
  slots.release(10);
  assert.equal(slots.inUse, 0);
  assert.throws(() => slots.tryAcquire(11), /cannot take 11 of 10/);
});

test('window slots - concurrent denoise calls of one composite never have more than windowsInFlight windows out, and the numbers do not change', async () => {
  const dims: LatentDims = { channels: 2, frames: 40, height: 16, width: 16 };
  const windows = planWindows(dims, { frames: 8, height: 8, width: 8 }, { frames: 4, height: 4, width: 4 });
  assert.ok(windows.length >= 50, `${windows.length} windows`);
  const scheduler = new DdimScheduler({}, 10);
  let out = 0;
  let most = 0;
  const evaluate: EvaluateWindows = async (items) => {
    out += items.length;
    most = Math.max(most, out);
    await new Promise((r) => setTimeout(r, 1 + (items.length % 3)));
    out -= items.length;
    return items.map((it) => it.sample.map((v) => 0.5 * v));
  };
  const make = (windowsInFlight?: number) =>
    new CompositeDenoiser({ dims, windows, blend: 'linear', predictionType: 'epsilon', evaluate, scheduler, windowsPerCall: 4, callsInFlight: 3, windowsInFlight });
  const samples = Array.from({ length: 6 }, (_, i) => new Rng(i).fillNormal(new Float32Array(2 * 40 * 16 * 16)));
  const bounded = make(10);
  const results = await Promise.all(samples.map((x, i) => bounded.denoise(x, i)));
  assert.ok(most <= 10, `${most} windows were out at once`);
  assert.ok(most >= 8, `the budget was used (${most})`);
  assert.equal(bounded.slots.inUse, 0);
  // Unbounded (each call its own 3 x 4): the same numbers.
  most = 0;
  const free = make(1000);
  const again = await Promise.all(samples.map((x, i) => free.denoise(x, i)));
  assert.ok(most > 10, `unbounded: ${most}`);
  results.forEach((r, i) => {
    assert.deepEqual(r.x0, again[i]!.x0);
    assert.deepEqual(r.eps, again[i]!.eps);
  });
  // A failing call gives its slots back.
  const failing = new CompositeDenoiser({ dims, windows, blend: 'linear', predictionType: 'epsilon', evaluate: async () => Promise.reject(new Error('worker gone')), scheduler, windowsPerCall: 4, callsInFlight: 3, windowsInFlight: 10 });
  await assert.rejects(failing.denoise(samples[0]!, 0), /worker gone/);
  assert.equal(failing.slots.inUse, 0);
});
