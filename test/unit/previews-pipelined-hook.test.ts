/**
 * The pipelined engine's onPrediction hook (live previews) shows each step's
 * x0 prediction as the barrier engine computes it: the same numbers, read
 * frame range by frame range from the finished step's merger.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { CompositeDenoiser, type EvaluateWindows } from '../../coordinator/layout/composite-denoiser.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import { observedDenoise } from '../../coordinator/previews/observed-denoise.ts';
import { samplePipelined } from '../../coordinator/sampling/pipelined-sequential.ts';
import type { PredictionFrames } from '../../coordinator/sampling/prediction-frames.ts';
import { createScheduler } from '../../coordinator/sampling/registry.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';

const DIMS = { channels: 2, frames: 24, height: 8, width: 8 };
const WINDOWS = planWindows(DIMS, { frames: 16, height: 8, width: 8 }, { frames: 8, height: 4, width: 4 });
const N = DIMS.channels * DIMS.frames * DIMS.height * DIMS.width;

/** A pure stand-in model whose answers land after a few random milliseconds. */
const model = (rand: Rng): EvaluateWindows => async (items) => {
  await new Promise((r) => setTimeout(r, rand.nextU32() % 4));
  return items.map((it) => Float32Array.from(it.sample, (x, k) => Math.tanh(0.7 * x + 1e-3 * it.timestep + 0.02 * (k % 5))));
};

/** Every frame of every channel a reader gives, in [C, F, H, W] order. */
function readAll(read: PredictionFrames): Float32Array {
  const plane = DIMS.height * DIMS.width;
  const out = new Float32Array(N);
  for (let c = 0; c < DIMS.channels; c++) read(c, 0, DIMS.frames, out.subarray(c * DIMS.frames * plane, (c + 1) * DIMS.frames * plane));
  return out;
}

test('previews - the pipelined engine shows every step the x0 the barrier engine computes, bit for bit', async () => {
  const scheduler = createScheduler('ddim', { predictionType: 'epsilon' }, 6);
  const make = (seed: number) => new CompositeDenoiser({ dims: DIMS, windows: WINDOWS, blend: 'linear', predictionType: 'epsilon', evaluate: model(new Rng(seed)), scheduler, windowsPerCall: 2, callsInFlight: 2 });
  const initial = new Rng(5).fillNormal(new Float32Array(N));
  const barrier = new Map<number, Float32Array>();
  await sampleSequential({ scheduler, denoise: observedDenoise(make(1).denoise, DIMS, (step, read) => barrier.set(step, readAll(read))), initial, noise: stepNoise(3) });
  const pipelined = new Map<number, Float32Array>();
  await samplePipelined({ composite: make(2), initial, noise: stepNoise(3), onPrediction: (step, read) => pipelined.set(step, readAll(read)) });
  assert.deepEqual([...pipelined.keys()], [0, 1, 2, 3, 4, 5]);
  for (const [step, x0] of barrier) assert.deepEqual(pipelined.get(step), x0, `step ${step}`);
});
