/**
 * Seam metrics: synthetic latents with and without discontinuities at window
 * edges, and a real sampling run (the field-mixture model's exact float64
 * posterior as the window model, the composite denoiser, DDIM) planned with
 * overlapping and with isolated windows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { FIELD_TRAIN_SCHEDULE } from '../../models/field-mixture/tables.ts';
import { CompositeDenoiser } from '../../coordinator/layout/composite-denoiser.ts';
import { initialNoise } from '../../coordinator/layout/noise-init.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import { boundaryChanges, median, seamMetrics, seamRatio, windowEdges } from '../../coordinator/layout/seams.ts';
import type { LatentDims, LatentSize } from '../../coordinator/layout/types.ts';
import { createScheduler } from '../../coordinator/sampling/registry.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';
import { posterior } from '../../models/field-mixture/reference.ts';

const size = (frames: number, height: number, width: number): LatentSize => ({ frames, height, width });
const DIMS: LatentDims = { channels: 2, frames: 48, height: 32, width: 64 };
const NATIVE = size(16, 32, 32);
const OVERLAPPED = planWindows(DIMS, NATIVE, size(8, 16, 16));
const ISOLATED = planWindows(DIMS, NATIVE, size(0, 0, 0));

/** Smooth travelling waves plus seeded white noise: stationary along every axis. */
function smoothLatent(dims: LatentDims, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(dims.channels * dims.frames * dims.height * dims.width);
  let k = 0;
  for (let c = 0; c < dims.channels; c++) {
    for (let f = 0; f < dims.frames; f++) {
      for (let y = 0; y < dims.height; y++) {
        for (let x = 0; x < dims.width; x++) {
          out[k++] = Math.sin(0.21 * f + 0.33 * y + 0.17 * x + c) + 0.5 * Math.cos(0.05 * f - 0.4 * x + 2 * c) + 0.2 * rng.normal();
        }
      }
    }
  }
  return out;
}

/** Adds `delta` to every element with `axis` coordinate >= `at`. */
function addStep(latent: Float32Array, dims: LatentDims, axis: 'frames' | 'width', at: number, delta: number): void {
  let k = 0;
  for (let c = 0; c < dims.channels; c++) {
    for (let f = 0; f < dims.frames; f++) {
      for (let y = 0; y < dims.height; y++) {
        for (let x = 0; x < dims.width; x++, k++) if ((axis === 'frames' ? f : x) >= at) latent[k]! += delta;
      }
    }
  }
}

describe('layout - seam metrics', () => {
  test('window edges are the inner starts and ends of the plan (L 30, W 16, S 8: 8, 14, 16, 24)', () => {
    const windows = planWindows(size(30, 4, 4), size(16, 4, 4), size(8, 0, 0));
    assert.deepEqual(windowEdges(windows, 'frames', 30), [8, 14, 16, 24]);
    assert.deepEqual(windowEdges(windows, 'width', 4), []);
    assert.deepEqual(windowEdges(ISOLATED, 'width', 64), [32]);
  });

  test('seamRatio: mean at edges over the interior median; 1 without edges', () => {
    const changes = Float64Array.from([1, 2, 1, 6, 1, 3, 1]); // boundaries 1..7
    assert.equal(seamRatio(changes, [4]), 6); // interior median of [1, 2, 1, 1, 3, 1] = 1
    assert.equal(seamRatio(changes, [2, 4]), 4);
    assert.equal(seamRatio(changes, []), 1);
    assert.equal(median([3, 1, 2, 10]), 2.5);
    assert.throws(() => seamRatio(changes, [8]), /outside boundaries/);
  });

  test('boundary changes are mean absolute differences of neighbouring frames, rows and columns', () => {
    const dims: LatentDims = { channels: 1, frames: 2, height: 2, width: 3 };
    const latent = Float32Array.from([0, 1, 3, 0, 1, 3, /* frame 1 */ 2, 3, 5, 4, 5, 7]);
    assert.deepEqual([...boundaryChanges(latent, dims, 'frames')], [3]);
    assert.deepEqual([...boundaryChanges(latent, dims, 'height')], [1]);
    assert.deepEqual([...boundaryChanges(latent, dims, 'width')], [1, 2]);
  });

  test('a smooth latent has ratios close to 1 under either plan', () => {
    const latent = smoothLatent(DIMS, 1);
    for (const windows of [OVERLAPPED, ISOLATED]) {
      const { seamTemporal, seamSpatial } = seamMetrics(latent, DIMS, windows);
      assert.ok(Math.abs(seamTemporal - 1) < 0.1, `temporal ${seamTemporal}`);
      assert.ok(Math.abs(seamSpatial - 1) < 0.1, `spatial ${seamSpatial}`);
    }
  });

  test('a step at a chunk boundary raises seamTemporal only; a step at a tile edge raises seamSpatial only', () => {
    const base = seamMetrics(smoothLatent(DIMS, 2), DIMS, ISOLATED);
    const stepped = smoothLatent(DIMS, 2);
    addStep(stepped, DIMS, 'frames', 16, 1.5);
    const t = seamMetrics(stepped, DIMS, ISOLATED);
    assert.ok(t.seamTemporal > 2 * base.seamTemporal, `temporal ${t.seamTemporal} vs ${base.seamTemporal}`);
    assert.ok(Math.abs(t.seamSpatial - base.seamSpatial) < 1e-3);
    const tiled = smoothLatent(DIMS, 2);
    addStep(tiled, DIMS, 'width', 32, 1.5);
    const s = seamMetrics(tiled, DIMS, ISOLATED);
    assert.ok(s.seamSpatial > 2 * base.seamSpatial, `spatial ${s.seamSpatial} vs ${base.seamSpatial}`);
    assert.ok(Math.abs(s.seamTemporal - base.seamTemporal) < 1e-3);
  });

  test('a single window has no seams: both ratios are 1', () => {
    const dims: LatentDims = { channels: 1, frames: 16, height: 8, width: 8 };
    const latent = new Rng(3).fillNormal(new Float32Array(16 * 64));
    assert.deepEqual(seamMetrics(latent, dims, planWindows(dims, size(16, 8, 8), size(8, 4, 4))), { seamTemporal: 1, seamSpatial: 1 });
  });

  test('real run: isolated windows leave clear seams, overlapped windows stay <= 1.15', async () => {
    const dims: LatentDims = { channels: 4, frames: 48, height: 32, width: 64 };
    const clouds = Float32Array.from([1, 0, 0, 0, 0, 0]);
    const run = async (overlap: LatentSize) => {
      const windows = planWindows(dims, NATIVE, overlap);
      const scheduler = createScheduler('ddim', { trainSchedule: FIELD_TRAIN_SCHEDULE, predictionType: 'epsilon' }, 10);
      const composite = new CompositeDenoiser({
        dims,
        windows,
        blend: 'gaussian',
        predictionType: 'epsilon',
        conditioningFor: () => ({ cond: { class_weights: { data: clouds, shape: [6], exact: true } } }),
        scheduler,
        evaluate: async (items) => items.map((it) => Float32Array.from(posterior(it.sample, it.timestep, it.conditioning!.cond['class_weights']!.data).epsilon)),
      });
      const initial = initialNoise('independent', dims, 4, { window: 16, overlap: overlap.frames });
      const latent = await sampleSequential({ scheduler, denoise: composite.denoise, initial, noise: stepNoise(4) });
      return seamMetrics(latent, dims, windows);
    };
    const overlapped = await run(size(8, 16, 16));
    const isolated = await run(size(0, 0, 0));
    assert.ok(overlapped.seamTemporal <= 1.15 && overlapped.seamSpatial <= 1.15, `overlapped ${JSON.stringify(overlapped)}`);
    assert.ok(isolated.seamTemporal > 1.5 && isolated.seamSpatial > 1.5, `isolated ${JSON.stringify(isolated)}`);
  });
});
