/**
 * The pipelined sequential engine must give the barrier engine's numbers bit
 * for bit (sampleSequential over CompositeDenoiser.denoise), for every
 * scheduler, whatever order the windows' evaluations land in — and it must
 * actually overlap steps: step i + 1's first windows go out before step i's
 * last ones are back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { CompositeDenoiser, type EvaluateWindows } from '../../coordinator/layout/composite-denoiser.ts';
import { samplePipelined } from '../../coordinator/sampling/pipelined-sequential.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import type { LatentDims } from '../../coordinator/layout/types.ts';
import type { PredictionType } from '../../coordinator/sampling/prediction.ts';
import { createScheduler } from '../../coordinator/sampling/registry.ts';
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';
import { sampleSequential, stepNoise, type SequentialState } from '../../coordinator/sampling/sequential.ts';

// 5 chunks (frames 0, 8, 16, 24, 32 of 48) x 2 x 2 tiles = 20 windows.
const DIMS: LatentDims = { channels: 2, frames: 48, height: 12, width: 12 };
const WINDOWS = planWindows(DIMS, { frames: 16, height: 8, width: 8 }, { frames: 8, height: 4, width: 4 });
const N = DIMS.channels * DIMS.frames * DIMS.height * DIMS.width;

/** A pure stand-in model (output depends on the input and timestep only); answers after `delayMs(call)`. */
function model(delayMs: (call: number, firstWindow: number) => number, log?: string[]): EvaluateWindows {
  let calls = 0;
  return async (items) => {
    const call = calls++;
    const t = items[0]!.timestep;
    log?.push(`start t=${t}`);
    await new Promise((r) => setTimeout(r, delayMs(call, items[0]!.window.index)));
    log?.push(`end t=${t}`);
    return items.map((it) => {
      const out = new Float32Array(it.sample.length);
      for (let k = 0; k < out.length; k++) out[k] = Math.tanh(0.8 * it.sample[k]! + 1e-3 * it.timestep + 0.01 * (k % 7)) * 0.9;
      return out;
    });
  };
}

function composite(scheduler: Scheduler, predictionType: PredictionType, evaluate: EvaluateWindows, windowsPerCall = 3, callsInFlight = 2): CompositeDenoiser {
  return new CompositeDenoiser({
    dims: DIMS,
    windows: WINDOWS,
    blend: 'linear',
    predictionType,
    evaluate,
    scheduler,
    windowsPerCall,
    callsInFlight,
  });
}

function initial(scheduler: Scheduler): Float32Array {
  const x = new Rng(11).fillNormal(new Float32Array(N));
  for (let k = 0; k < N; k++) x[k]! *= scheduler.initNoiseSigma;
  return x;
}

const CASES: { kind: string; predictionType: PredictionType; config?: object }[] = [
  { kind: 'ddim', predictionType: 'epsilon' },
  { kind: 'ddpm', predictionType: 'epsilon' },
  { kind: 'euler', predictionType: 'epsilon' },
  { kind: 'flow_euler', predictionType: 'flow' },
];

for (const c of CASES) {
  test(`pipelined sequential - ${c.kind}: the barrier engine's samples and checkpoints, bit for bit, with windows landing out of order`, async () => {
    const scheduler = createScheduler(c.kind, c.config ?? (c.kind === 'flow_euler' ? {} : { predictionType: c.predictionType }), 5);
    const rand = new Rng(3);
    // Random delays: groups land in any order; the merge must not care.
    const delays = Array.from({ length: 200 }, () => rand.nextU32() % 6);
    const barrierStates: Float32Array[] = [];
    const reference = await sampleSequential({
      scheduler,
      denoise: composite(scheduler, c.predictionType, model(() => 0)).denoise,
      initial: initial(scheduler),
      noise: stepNoise(7),
      onCheckpoint: (s) => barrierStates.push(s.sample.slice()),
    });
    const states: Float32Array[] = [];
    const steps: number[] = [];
    const out = await samplePipelined({
      composite: composite(scheduler, c.predictionType, model((call) => delays[call % delays.length]!)),
      initial: initial(scheduler),
      noise: stepNoise(7),
      onCheckpoint: (s) => states.push(s.sample.slice()),
      onStep: (step) => steps.push(step),
    });
    assert.deepEqual(steps, [1, 2, 3, 4, 5]);
    assert.equal(states.length, barrierStates.length);
    states.forEach((s, i) => assert.ok(Buffer.from(s.buffer).equals(Buffer.from(barrierStates[i]!.buffer)), `checkpoint after step ${i + 1} differs`));
    assert.ok(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength)), 'final sample differs');
    if (c.kind === 'ddpm') assert.ok(scheduler.noiseCoefficient(0) !== 0, 'ddpm adds step noise (the stochastic path is covered)');
  });
}

test('pipelined sequential - step i + 1 starts while step i is still evaluating', async () => {
  const scheduler = createScheduler('ddim', { predictionType: 'epsilon' }, 3);
  const log: string[] = [];
  // Later windows take longer, as the last batches of a round do.
  await samplePipelined({ composite: composite(scheduler, 'epsilon', model((_, first) => 2 + first, log), 3, 4), initial: initial(scheduler), noise: stepNoise(1) });
  const [t0, t1] = [scheduler.timesteps[0], scheduler.timesteps[1]];
  const firstOfStep1 = log.indexOf(`start t=${t1}`);
  const lastOfStep0 = log.lastIndexOf(`end t=${t0}`);
  assert.ok(firstOfStep1 >= 0 && firstOfStep1 < lastOfStep0, `step 1 started at event ${firstOfStep1}, step 0 ended at ${lastOfStep0}: no overlap`);
});

test('pipelined sequential - resumes from a checkpoint to the same sample', async () => {
  const scheduler = createScheduler('ddpm', { predictionType: 'epsilon' }, 4);
  const states: SequentialState[] = [];
  const full = await samplePipelined({
    composite: composite(scheduler, 'epsilon', model(() => 1)),
    initial: initial(scheduler),
    noise: stepNoise(2),
    onCheckpoint: (s) => states.push({ step: s.step, sample: s.sample.slice() }),
  });
  const resumed = await samplePipelined({ composite: composite(scheduler, 'epsilon', model(() => 1)), initial: initial(scheduler), noise: stepNoise(2), resume: states[1]! });
  assert.deepEqual([...resumed], [...full]);
  const done = await samplePipelined({ composite: composite(scheduler, 'epsilon', model(() => 1)), initial: initial(scheduler), noise: stepNoise(2), resume: states[3]! });
  assert.deepEqual([...done], [...full]);
});

test('pipelined sequential - an evaluation error or an abort rejects the run', async () => {
  const scheduler = createScheduler('ddim', { predictionType: 'epsilon' }, 3);
  let calls = 0;
  const failing: EvaluateWindows = async (items) => {
    if (++calls === 9) throw new Error('worker exploded');
    return model(() => 1)(items);
  };
  await assert.rejects(samplePipelined({ composite: composite(scheduler, 'epsilon', failing), initial: initial(scheduler), noise: stepNoise(1) }), /worker exploded/);
  const ac = new AbortController();
  const run = samplePipelined({ composite: composite(scheduler, 'epsilon', model(() => 5)), initial: initial(scheduler), noise: stepNoise(1), signal: ac.signal });
  setTimeout(() => ac.abort(new Error('canceled by the test')), 8);
  await assert.rejects(run, /canceled by the test/);
});
