import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CapacityModel, type CapacitySource } from '../../coordinator/cluster/capacity.ts';
import { DdimScheduler, stepNoise, type DenoiseFn, type Scheduler } from '../../coordinator/sampling/mod.ts';
import { samplePicard } from '../../coordinator/sampling/picard.ts';
import { createPicardPolicy } from '../../coordinator/sampling/picard-policy.ts';
import { Rng } from '../../common/rng.ts';

/** A pool of `slots` worker slots serving one model, and a queue of `waiting` jobs. */
function fakePool(slots: number): CapacitySource & { slotCount: number; waitingJobs: number } {
  return {
    slotCount: slots,
    waitingJobs: 0,
    slots(model) {
      return model === 'video' ? this.slotCount : 0;
    },
    shareWorkers: (a, b) => a === b,
    waiting() {
      return this.waitingJobs;
    },
  };
}

test('capacity - a job alone gets every slot over its windows per step; more windows than slots get window 1', async () => {
  const pool = fakePool(16);
  const model = new CapacityModel(pool);
  const single = model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 });
  assert.equal(await single.windowFor(64), 16);
  assert.equal(await single.windowFor(8), 8, 'the limit caps it');
  assert.equal(single.aloneWindow(64), 16);
  single.release();
  const three = model.claim({ model: 'video', windowsPerStep: 3, elastic: true, window: 1 });
  assert.equal(await three.windowFor(64), 5);
  three.release();
  pool.slotCount = 32;
  const long = model.claim({ model: 'video', windowsPerStep: 207, elastic: true, window: 1 });
  assert.equal(await long.windowFor(64), 1);
  assert.equal(long.aloneWindow(64), 1);
  long.release();
  assert.equal(model.running, 0);
});

test('capacity - elastic jobs share the spare slots; fixed jobs keep theirs; other models do not count', async () => {
  const model = new CapacityModel(fakePool(16));
  const jobs = Array.from({ length: 8 }, () => model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 }));
  for (const j of jobs) assert.equal(await j.windowFor(64), 2, 'eight single-window jobs on 16 slots: window 2 each');
  for (const j of jobs) j.release();
  const fixed = model.claim({ model: 'video', windowsPerStep: 1, elastic: false, window: 8 });
  const other = model.claim({ model: 'image', windowsPerStep: 4, elastic: false, window: 4 });
  const auto = model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 });
  assert.equal(await auto.windowFor(64), 8, '16 slots - 8 of the fixed Picard job');
  fixed.release();
  other.release();
  // A saturated cluster: sequential jobs on every slot leave window 1.
  const sequential = Array.from({ length: 15 }, () => model.claim({ model: 'video', windowsPerStep: 1, elastic: false, window: 1 }));
  assert.equal(await auto.windowFor(64), 1);
  for (const s of sequential) s.release();
  assert.equal(await auto.windowFor(64), 16);
  auto.release();
});

test('capacity - the window grows when the other job ends and shrinks when a job arrives or waits', async () => {
  const pool = fakePool(12);
  const model = new CapacityModel(pool);
  const a = model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 });
  assert.equal(await a.windowFor(64), 12);
  const b = model.claim({ model: 'video', windowsPerStep: 2, elastic: true, window: 1 });
  // spare 12 - 1 - 2 = 9, shared 1:2 -> a gets 3 extra slots, b 6 (3 points of 2 windows).
  assert.equal(await a.windowFor(64), 4);
  assert.equal(await b.windowFor(64), 4);
  pool.waitingJobs = 3;
  assert.equal(await a.windowFor(64), 3, 'jobs about to start take a slot each');
  pool.waitingJobs = 0;
  b.release();
  assert.equal(await a.windowFor(64), 12);
  pool.slotCount = 3;
  assert.equal(await a.windowFor(64), 3, 'workers gone: fewer slots');
  assert.throws(() => model.claim({ model: 'video', windowsPerStep: 0, elastic: true, window: 1 }), /windowsPerStep/);
});

/** A nonlinear per-element denoiser (a two-point mixture) so Picard takes several rounds. */
function mixtureDenoiser(scheduler: Scheduler): DenoiseFn {
  return async (x, i) => {
    const { alpha: a, sigma: s } = scheduler.noiseLevel(i);
    const x0 = new Float32Array(x.length);
    const eps = new Float32Array(x.length);
    const v = 0.3;
    const total = a * a * v + s * s;
    for (let k = 0; k < x.length; k++) {
      const l1 = -((x[k]! + a) ** 2) / (2 * total);
      const l2 = -((x[k]! - 1.5 * a) ** 2) / (2 * total);
      const m = Math.max(l1, l2);
      const w1 = Math.exp(l1 - m);
      const w2 = Math.exp(l2 - m);
      x0[k] = (w1 * (-1 + ((a * v) / total) * (x[k]! + a)) + w2 * (1.5 + ((a * v) / total) * (x[k]! - 1.5 * a))) / (w1 + w2);
      eps[k] = (x[k]! - a * x0[k]!) / s;
    }
    return { x0, eps };
  };
}

test('capacity - the Picard engine on a fake pool: the window shrinks when a second job arrives and grows back when it ends', async () => {
  const model = new CapacityModel(fakePool(8));
  const scheduler = new DdimScheduler({}, 60);
  const mine = model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 });
  let other: ReturnType<CapacityModel['claim']> | undefined;
  const windows: number[] = [];
  const denoise = mixtureDenoiser(scheduler);
  await samplePicard({
    scheduler,
    denoise,
    initial: new Rng(3).fillNormal(new Float32Array(256)),
    noise: stepNoise(3),
    window: 8,
    windowFor: () => mine.windowFor(8),
    // A tight tolerance: many rounds, so the job sees the other one come and go.
    policy: createPicardPolicy('forecast', 1e-4),
    onRound: (r) => {
      windows.push(r.window);
      if (r.round === 2) other = model.claim({ model: 'video', windowsPerStep: 1, elastic: true, window: 1 });
      if (r.round === 4) other!.release();
    },
  });
  mine.release();
  assert.ok(windows.length >= 6, `rounds: ${windows.join(',')}`);
  // Rounds 1-2 alone (8), 3-4 beside the other job (spare 6, half each: 4), then alone again.
  assert.deepEqual(windows.slice(0, 5), [8, 8, 4, 4, 8]);
});
