/**
 * Window planning, blend weights and merging over a large latent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { BLEND_KINDS, axisProfile, blendProfiles, denseWeights } from '../../coordinator/layout/blend.ts';
import { LayoutError } from '../../coordinator/layout/errors.ts';
import { Merger, extractWindow } from '../../coordinator/layout/merge.ts';
import { planAxis, planWindows } from '../../coordinator/layout/planner.ts';
import type { LatentDims, LatentSize, Window } from '../../coordinator/layout/types.ts';

const size = (frames: number, height: number, width: number): LatentSize => ({ frames, height, width });

function randomCase(rng: Rng): { latent: LatentSize; window: LatentSize; overlap: LatentSize } {
  const latent = size(1 + rng.int(40), 1 + rng.int(24), 1 + rng.int(24));
  const window = size(1 + rng.int(16), 1 + rng.int(12), 1 + rng.int(12));
  const overlap = size(rng.int(window.frames), rng.int(window.height), rng.int(window.width));
  return { latent, window, overlap };
}

describe('layout - planner', () => {
  test('L = 30, W = 16, overlap 8: windows at 0, 8, 14 (the last snaps to the end)', () => {
    assert.deepEqual(planAxis(30, 16, 8), [0, 8, 14]);
    const windows = planWindows(size(30, 4, 4), size(16, 4, 4), size(8, 0, 0));
    assert.deepEqual(
      windows.map((w) => [w.index, w.f0, w.frames, w.height, w.width]),
      [[0, 0, 16, 4, 4], [1, 8, 16, 4, 4], [2, 14, 16, 4, 4]],
    );
  });

  test('stride = window - overlap; exact fit needs no snap; small latents get one shrunken window', () => {
    assert.deepEqual(planAxis(24, 16, 8), [0, 8]);
    assert.deepEqual(planAxis(40, 16, 4), [0, 12, 24]);
    assert.deepEqual(planAxis(17, 16, 0), [0, 1]);
    assert.deepEqual(planAxis(16, 16, 8), [0]);
    assert.deepEqual(planAxis(5, 16, 8), [0]);
    const [only, ...rest] = planWindows(size(5, 40, 9), size(16, 64, 8), size(4, 8, 2));
    assert.equal(rest.length, 1); // width 9 > 8: tiles at x 0 and 1
    assert.deepEqual(only, { index: 0, f0: 0, y0: 0, x0: 0, frames: 5, height: 40, width: 8 });
    assert.equal(rest[0]!.x0, 1);
  });

  test('order is frame-major, then y, then x; output is deterministic', () => {
    const args = [size(20, 12, 12), size(8, 8, 8), size(2, 4, 4)] as const;
    const windows = planWindows(...args);
    assert.equal(windows.length, 3 * 2 * 2);
    assert.deepEqual(
      windows.slice(0, 5).map((w) => [w.f0, w.y0, w.x0]),
      [[0, 0, 0], [0, 0, 4], [0, 4, 0], [0, 4, 4], [6, 0, 0]],
    );
    assert.deepEqual(windows.map((w) => w.index), windows.map((_, i) => i));
    assert.deepEqual(planWindows(...args), windows);
    assert.deepEqual(blendProfiles(windows, args[0], 'cosine'), blendProfiles(windows, args[0], 'cosine'));
  });

  test('errors name the field', () => {
    const fails = (fn: () => unknown, field: string, message: RegExp): void => {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof LayoutError);
        assert.equal(err.field, field);
        assert.match(err.message, message);
        return true;
      });
    };
    fails(() => planWindows(size(30, 8, 8), size(16, 8, 8), size(16, 0, 0)), 'overlap.frames',
      /overlap\.frames \(16\) must be less than window\.frames \(16\)/);
    fails(() => planWindows(size(30, 8, 8), size(16, 8, 8), size(0, 9, 0)), 'overlap.height', /less than window\.height/);
    fails(() => planWindows(size(30, 0, 8), size(16, 8, 8), size(0, 0, 0)), 'latent.height', /positive integer, got 0/);
    fails(() => planWindows(size(30, 8, 8), size(16, 8, 2.5), size(0, 0, 0)), 'window.width', /got 2\.5/);
    fails(() => planWindows(size(30, 8, 8), size(16, 8, 8), size(0, 0, -1)), 'overlap.width', /integer >= 0, got -1/);
  });
});

describe('layout - blend and merge properties (seeded random sizes)', () => {
  test('every element is covered with total weight > 0, every weight in (0, 1], for every blend kind', () => {
    const rng = new Rng(2024);
    for (let trial = 0; trial < 150; trial++) {
      const { latent, window, overlap } = randomCase(rng);
      const windows = planWindows(latent, window, overlap);
      const { frames: F, height: H, width: W } = latent;
      for (const kind of BLEND_KINDS) {
        const total = new Float64Array(F * H * W);
        blendProfiles(windows, latent, kind).forEach((profile, i) => {
          const w = windows[i]!;
          const dense = denseWeights(profile);
          let k = 0;
          for (let f = 0; f < w.frames; f++) {
            for (let y = 0; y < w.height; y++) {
              for (let x = 0; x < w.width; x++) {
                const wt = dense[k++]!;
                assert.ok(wt > 0 && wt <= 1, `${kind}: weight ${wt}`);
                total[((w.f0 + f) * H + w.y0 + y) * W + w.x0 + x]! += wt;
              }
            }
          }
        });
        const uncovered = total.findIndex((t) => !(t > 0));
        assert.equal(uncovered, -1, `${kind} ${JSON.stringify({ latent, window, overlap })}: element ${uncovered}`);
      }
    }
  });

  test('merging identical predictions returns them unchanged (within 1e-6)', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const { latent, window, overlap } = randomCase(rng);
      const dims: LatentDims = { channels: 1 + rng.int(3), ...latent };
      const global = rng.fillNormal(new Float32Array(dims.channels * latent.frames * latent.height * latent.width));
      const windows = planWindows(latent, window, overlap);
      for (const kind of BLEND_KINDS) {
        const merger = new Merger(dims, windows, kind);
        for (const w of windows) merger.accumulate(w, extractWindow(global, dims, w));
        const merged = merger.result();
        for (let k = 0; k < global.length; k++) {
          assert.ok(Math.abs(merged[k]! - global[k]!) <= 1e-6 * Math.max(1, Math.abs(global[k]!)), `${kind} [${k}]`);
        }
      }
    }
  });

  test('latent borders keep weight 1; linear and cosine ramps are a partition of unity', () => {
    // two windows [0, 16) and [8, 24) along x: ramps of 8 on the facing edges only
    const latent = size(1, 1, 24);
    const windows = planWindows(latent, size(1, 1, 16), size(0, 0, 8));
    for (const kind of ['linear', 'cosine'] as const) {
      const [a, b] = blendProfiles(windows, latent, kind).map((p) => p.width);
      assert.equal(a![0], 1);
      assert.equal(b![15], 1);
      assert.equal(a![7], 1);
      for (let x = 8; x < 16; x++) assert.ok(Math.abs(a![x]! + b![x - 8]! - 1) < 1e-12, `${kind} x = ${x}`);
    }
    // linear ramp weights (d + 1) / (ramp + 1): 1/9 .. 8/9 on a leading ramp of 8
    assert.deepEqual([...axisProfile('linear', 10, 8, 0)], [1 / 9, 2 / 9, 3 / 9, 4 / 9, 5 / 9, 6 / 9, 7 / 9, 8 / 9, 1, 1]);
    assert.deepEqual([...axisProfile('uniform', 4, 3, 3)], [1, 1, 1, 1]);
    // the snapped window of L = 30, W = 16, S = 8 overlaps its neighbour by 10 and ramps over 10
    const snapped = blendProfiles(planWindows(size(1, 1, 30), size(1, 1, 16), size(0, 0, 8)), size(1, 1, 30), 'linear');
    assert.ok(Math.abs(snapped[2]!.width[0]! - 1 / 11) < 1e-12);
    assert.equal(snapped[2]!.width[10], 1);
  });

  test('merge rejects foreign windows, wrong sizes and uncovered elements', () => {
    const dims: LatentDims = { channels: 1, frames: 1, height: 1, width: 8 };
    const w0: Window = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 4 };
    const merger = new Merger(dims, [w0], 'uniform');
    assert.throws(() => merger.accumulate({ ...w0, x0: 1 }, new Float32Array(4)), /not one of this merger's windows/);
    assert.throws(() => merger.accumulate(w0, new Float32Array(3)), /3 elements, expected 4/);
    merger.accumulate(w0, new Float32Array(4));
    assert.throws(() => merger.result(), /latent element \(f 0, y 0, x 4\) is covered by no window/);
    assert.throws(() => extractWindow(new Float32Array(8), dims, { ...w0, x0: 6 }), /does not fit the latent/);
  });
});
