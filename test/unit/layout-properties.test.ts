/**
 * Property tests of the layout layer over seeded random sizes, adding to
 * `layout-planner.test.ts`: the L = 30, W = 16, S = 8 case through every
 * property, plan structure and determinism for random cases, merge order
 * independence, and the FreeNoise initial noise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { BLEND_KINDS, blendProfiles } from '../../coordinator/layout/blend.ts';
import { Merger, extractWindow } from '../../coordinator/layout/merge.ts';
import { freeNoiseSources, initialNoise, independentNoise } from '../../coordinator/layout/noise-init.ts';
import { planAxis, planWindows } from '../../coordinator/layout/planner.ts';
import { AXES, windowStart, type LatentDims, type LatentSize, type Window } from '../../coordinator/layout/types.ts';

const size = (frames: number, height: number, width: number): LatentSize => ({ frames, height, width });

interface Case {
  dims: LatentDims;
  window: LatentSize;
  overlap: LatentSize;
}

/** The case (L 30, W 16, stride 8) first, then seeded random ones (overlap 0 included). */
function cases(seed: number, n: number): Case[] {
  const rng = new Rng(seed);
  const out: Case[] = [{ dims: { channels: 2, ...size(30, 5, 7) }, window: size(16, 4, 4), overlap: size(8, 2, 1) }];
  for (let i = 0; i < n; i++) {
    const window = size(1 + rng.int(16), 1 + rng.int(10), 1 + rng.int(10));
    const overlap = size(rng.int(window.frames), rng.int(window.height), rng.int(window.width));
    const latent = size(1 + rng.int(48), 1 + rng.int(20), 1 + rng.int(20));
    out.push({ dims: { channels: 1 + rng.int(3), ...latent }, window, overlap });
  }
  return out;
}

/** Total blend weight of every latent element `[F, H, W]`, through the merger itself (data = 1). */
function totalWeights(c: Case, windows: readonly Window[], kind: (typeof BLEND_KINDS)[number]): Float64Array {
  const { frames: F, height: H, width: W } = c.dims;
  const total = new Float64Array(F * H * W);
  blendProfiles(windows, c.dims, kind).forEach((p, i) => {
    const w = windows[i]!;
    for (let f = 0; f < w.frames; f++) {
      for (let y = 0; y < w.height; y++) {
        for (let x = 0; x < w.width; x++) total[((w.f0 + f) * H + w.y0 + y) * W + w.x0 + x]! += p.frames[f]! * p.height[y]! * p.width[x]!;
      }
    }
  });
  return total;
}

describe('layout - planner, blend and merge properties', () => {
  test('L 30, W 16, stride 8: windows 0, 8, 14 cover every frame, the snapped one included', () => {
    assert.deepEqual(planAxis(30, 16, 8), [0, 8, 14]);
    const c = cases(1, 0)[0]!;
    const total = totalWeights(c, planWindows(c.dims, c.window, c.overlap), 'linear');
    assert.equal(total.findIndex((t) => !(t > 0)), -1);
  });

  test('plans cover each axis with strides of window - overlap, the last window ending at the latent end', () => {
    for (const c of cases(11, 200)) {
      const windows = planWindows(c.dims, c.window, c.overlap);
      for (const axis of AXES) {
        const starts = [...new Set(windows.map((w) => windowStart(w, axis)))].sort((a, b) => a - b);
        const len = Math.min(c.window[axis], c.dims[axis]);
        assert.deepEqual(starts, planAxis(c.dims[axis], c.window[axis], c.overlap[axis]));
        assert.equal(starts[0], 0);
        assert.equal(starts.at(-1)! + len, c.dims[axis], `${axis} ${JSON.stringify(c)}`);
        for (let i = 1; i < starts.length; i++) {
          const step = starts[i]! - starts[i - 1]!;
          // Full strides, except the snapped last window, which steps less (and still > 0).
          if (i < starts.length - 1) assert.equal(step, c.window[axis] - c.overlap[axis]);
          else assert.ok(step > 0 && step <= c.window[axis] - c.overlap[axis]);
        }
      }
    }
  });

  test('every latent element has total weight > 0 for every blend kind', () => {
    for (const c of cases(12, 120)) {
      const windows = planWindows(c.dims, c.window, c.overlap);
      for (const kind of BLEND_KINDS) {
        const bad = totalWeights(c, windows, kind).findIndex((t) => !(t > 0));
        assert.equal(bad, -1, `${kind} ${JSON.stringify(c)}: element ${bad}`);
      }
    }
  });

  test('merging identical window predictions returns them unchanged, in any accumulation order', () => {
    const rng = new Rng(13);
    for (const c of cases(13, 60)) {
      const { channels, frames, height, width } = c.dims;
      const global = rng.fillNormal(new Float32Array(channels * frames * height * width));
      const windows = planWindows(c.dims, c.window, c.overlap);
      const order = [...windows].reverse();
      for (const kind of BLEND_KINDS) {
        const merger = new Merger(c.dims, windows, kind);
        for (const w of order) merger.accumulate(w, extractWindow(global, c.dims, w));
        const merged = merger.result();
        for (let k = 0; k < global.length; k++) {
          assert.ok(Math.abs(merged[k]! - global[k]!) <= 1e-6 * Math.max(1, Math.abs(global[k]!)), `${kind} ${JSON.stringify(c)} [${k}]`);
        }
      }
    }
  });

  test('planner and blend profiles are deterministic', () => {
    for (const c of cases(14, 100)) {
      const a = planWindows(c.dims, c.window, c.overlap);
      const b = planWindows({ ...c.dims }, { ...c.window }, { ...c.overlap });
      assert.deepEqual(a, b);
      assert.deepEqual(a.map((w) => w.index), a.map((_, i) => i));
      for (const kind of BLEND_KINDS) assert.deepEqual(blendProfiles(a, c.dims, kind), blendProfiles(b, c.dims, kind));
    }
  });
});

describe('layout - freenoise initial noise properties', () => {
  const layouts = (() => {
    const rng = new Rng(21);
    const out = [{ frames: 30, window: 16, overlap: 8 }, { frames: 64, window: 16, overlap: 0 }, { frames: 16, window: 16, overlap: 4 }];
    for (let i = 0; i < 40; i++) {
      const window = 1 + rng.int(16);
      out.push({ frames: 1 + rng.int(80), window, overlap: rng.int(window) });
    }
    return out;
  })();

  test('deterministic per seed; another seed gives other noise', () => {
    const dims: LatentDims = { channels: 2, frames: 40, height: 3, width: 5 };
    const layout = { window: 16, overlap: 8 };
    assert.deepEqual(initialNoise('freenoise', dims, 5, layout), initialNoise('freenoise', dims, 5, layout));
    assert.notDeepEqual(initialNoise('freenoise', dims, 5, layout), initialNoise('freenoise', dims, 6, layout));
    assert.notDeepEqual(freeNoiseSources(200, 16, 8, 5), freeNoiseSources(200, 16, 8, 6));
  });

  test('the first native window is the independent noise of the same seed; independent is Rng(seed, 0)', () => {
    const dims: LatentDims = { channels: 3, frames: 37, height: 4, width: 6 };
    const free = initialNoise('freenoise', dims, 9, { window: 16, overlap: 8 });
    const indep = initialNoise('independent', dims, 9, { window: 16, overlap: 8 });
    assert.deepEqual(indep, new Rng(9, 0).fillNormal(new Float32Array(indep.length)));
    assert.deepEqual(independentNoise(dims, 9), indep);
    const plane = dims.height * dims.width;
    for (let c = 0; c < dims.channels; c++) {
      const a = (c * dims.frames) * plane;
      assert.deepEqual(free.subarray(a, a + 16 * plane), indep.subarray(a, a + 16 * plane));
    }
  });

  test('each later block is a permutation of the block one native window earlier; frames copy their source', () => {
    for (const { frames, window, overlap } of layouts) {
      const sources = freeNoiseSources(frames, window, overlap, 3);
      const stride = window - overlap;
      for (let f = 0; f < Math.min(window, frames); f++) assert.equal(sources[f], f);
      for (let start = window; start < frames; start += stride) {
        const end = Math.min(start + stride, frames);
        const got = [...sources.subarray(start, end)].sort((a, b) => a - b);
        const want = Array.from({ length: end - start }, (_, i) => start - window + i);
        assert.deepEqual(got, want, `frames ${frames} window ${window} overlap ${overlap} block at ${start}`);
      }
      // The noise of frame f is exactly the noise of its source frame, in every channel.
      const dims: LatentDims = { channels: 2, frames, height: 2, width: 3 };
      const noise = initialNoise('freenoise', dims, 3, { window, overlap });
      const plane = 6;
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < 2; c++) {
          const at = (c * frames + f) * plane;
          const src = (c * frames + sources[f]!) * plane;
          assert.deepEqual(noise.subarray(at, at + plane), noise.subarray(src, src + plane));
        }
      }
    }
  });

  test('the shuffles are not the identity: later blocks reorder their frames', () => {
    const sources = freeNoiseSources(512, 16, 8, 1);
    let moved = 0;
    for (let f = 16; f < 512; f++) if (sources[f] !== f - 16) moved++;
    assert.ok(moved > 400, `${moved} of 496 frames moved`);
  });

  test('marginal mean 0 and variance 1, overall and per frame position', () => {
    const dims: LatentDims = { channels: 4, frames: 128, height: 16, width: 16 };
    const noise = initialNoise('freenoise', dims, 77, { window: 16, overlap: 8 });
    let s = 0;
    let s2 = 0;
    for (const v of noise) {
      s += v;
      s2 += v * v;
    }
    const n = noise.length;
    // The first window holds the independent draws (16384 values); the rest are copies.
    assert.ok(Math.abs(s / n) < 0.03, `mean ${s / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 0.03, `variance ${s2 / n}`);
    const plane = dims.height * dims.width;
    for (const f of [0, 15, 16, 63, 127]) {
      let v2 = 0;
      for (let c = 0; c < dims.channels; c++) for (let p = 0; p < plane; p++) v2 += noise[(c * dims.frames + f) * plane + p]! ** 2;
      const variance = v2 / (dims.channels * plane);
      assert.ok(Math.abs(variance - 1) < 0.15, `frame ${f}: variance ${variance}`);
    }
  });

  test('bad layouts are rejected naming the field', () => {
    assert.throws(() => freeNoiseSources(40, 16, 16, 1), (e: unknown) => (e as { field?: string }).field === 'overlap');
    assert.throws(() => freeNoiseSources(40, 0, 0, 1), (e: unknown) => (e as { field?: string }).field === 'window');
  });
});
