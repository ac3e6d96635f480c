import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreviewBoard, type PreviewImage } from '../../coordinator/previews/board.ts';
import { JobPreviews, type JobPreviewsOptions } from '../../coordinator/previews/job-previews.ts';
import { decodePng } from '../../coordinator/previews/png.ts';
import { validatePreviewSpec } from '../../coordinator/previews/preview-spec.ts';
import { observedDenoise } from '../../coordinator/previews/observed-denoise.ts';
import { wholePrediction } from '../../coordinator/sampling/prediction-frames.ts';
import { fieldMixtureManifest } from '../../models/field-mixture/build.ts';
import { InvalidArgumentError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';

const testLog = createLogger('test', { level: 'silent' });
const dims = { channels: 2, frames: 4, height: 2, width: 2 };
const map = { matrix: [[1, 0, 0], [0, 1, 0]], bias: [0, 0, 0.5] };

/** A prediction whose channel 0 is `red` and channel 1 is `green` everywhere. */
function prediction(red: number, green: number) {
  const plane = dims.height * dims.width;
  const x0 = new Float32Array(dims.channels * dims.frames * plane);
  x0.fill(red, 0, dims.frames * plane);
  x0.fill(green, dims.frames * plane);
  return wholePrediction(x0, dims.frames, plane);
}

function previews(overrides: Partial<JobPreviewsOptions> = {}) {
  const board = new PreviewBoard();
  const seen: PreviewImage[] = [];
  board.subscribe('job', (p) => seen.push(p));
  let now = 0;
  const p = new JobPreviews({
    jobId: 'job',
    settings: { everySeconds: 5, frames: 2, width: 64, source: 'map' },
    dims,
    video: { frames: 4, width: 8, height: 8 },
    totalSteps: 10,
    map,
    decode: () => Promise.reject(new Error('no decoder in this test')),
    board,
    log: testLog,
    now: () => now,
    ...overrides,
  });
  return { p, seen, board, at: (ms: number) => (now = ms) };
}

test('previews - at most one preview per interval, made off the engine path, of the stated size and step', async () => {
  const { p, seen, at } = previews();
  at(0);
  p.observe(0, prediction(1, 0));
  // Nothing is made in the engine's turn.
  assert.equal(seen.length, 0);
  await p.idle();
  at(1000);
  p.observe(1, prediction(0, 1));
  await p.idle();
  at(5000);
  p.observe(2, prediction(0, 1));
  await p.idle();
  assert.deepEqual(seen.map((s) => s.step), [1, 3]);
  const first = decodePng(seen[0]!.image);
  assert.equal(first.width, seen[0]!.width);
  assert.equal(first.height, seen[0]!.height);
  // Two 32x32 tiles side by side (the video is square), red from the map.
  assert.deepEqual([seen[0]!.width, seen[0]!.height, seen[0]!.frames], [64, 32, 2]);
  assert.deepEqual([...first.rgb.subarray(0, 3)], [255, 0, 128]);
  assert.deepEqual([...decodePng(seen[1]!.image).rgb.subarray(0, 3)], [0, 255, 128]);
});

test('previews - a prediction offered while the last preview is in the making is dropped', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { p, seen } = previews({
    settings: { everySeconds: 0, frames: 2, width: 64, source: 'decoder' },
    decode: async (latents, shape) => {
      await gate;
      const [n] = shape as [number];
      return { data: new Uint8Array(n * 3 * 4 * 4).fill(200), shape: [n, 3, 4, 4] };
    },
  });
  p.observe(0, prediction(0, 0));
  p.observe(1, prediction(0, 0));
  p.observe(2, prediction(0, 0));
  release();
  await p.idle();
  assert.equal(p.stats.busy, 2);
  assert.deepEqual(seen.map((s) => s.step), [1]);
  assert.deepEqual([...decodePng(seen[0]!.image).rgb.subarray(0, 3)], [200, 200, 200]);
});

test('previews - a failing preview never throws into the engine', async () => {
  const { p, seen } = previews({ settings: { everySeconds: 0, frames: 2, width: 64, source: 'decoder' } });
  // The decoder fails (after the engine's turn), then the reader does (in it).
  p.observe(0, prediction(0, 0));
  await p.idle();
  assert.doesNotThrow(() =>
    p.observe(1, () => {
      throw new Error('reader broke');
    }),
  );
  await p.idle();
  assert.equal(seen.length, 0);
  assert.equal(p.stats.failed, 2);
});

test('previews - the contact sheet is posted by finish() and kept by the board', async () => {
  const { p, seen, board } = previews();
  for (let f = 0; f < 4; f++) p.frame(new Uint8Array(8 * 8 * 3).fill(f * 10), f);
  await p.finish();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.contactSheet, true);
  assert.equal(seen[0]!.step, 10);
  assert.equal(board.contactSheet('job'), seen[0]);
});

test('previews - the board keeps the newest contact sheets only', () => {
  const board = new PreviewBoard(2);
  const sheet = { image: Buffer.alloc(0), mimeType: 'image/png', width: 1, height: 1, step: 1, totalSteps: 1, frames: 1, contactSheet: true } as const;
  for (const id of ['a', 'b', 'c']) board.publish(id, sheet);
  assert.equal(board.contactSheet('a'), undefined);
  assert.ok(board.contactSheet('b') && board.contactSheet('c'));
});

test('previews - spec: defaults, auto resolves to the map, and errors name the field', () => {
  const m = fieldMixtureManifest();
  assert.equal(validatePreviewSpec(undefined, m, 16), undefined);
  assert.deepEqual(validatePreviewSpec({ frames: 0, width: 0, source: '' }, m, 16), { everySeconds: 5, frames: 4, width: 512, source: 'map' });
  assert.deepEqual(validatePreviewSpec({ everySeconds: 0, frames: 16, width: 64, source: 'decoder' }, m, 12), { everySeconds: 0, frames: 12, width: 64, source: 'decoder' });
  const noMap = { ...m, previewMap: undefined };
  assert.equal(validatePreviewSpec({ frames: 0, width: 0, source: 'auto' }, noMap, 16)?.source, 'decoder');
  const field = (raw: Parameters<typeof validatePreviewSpec>[0], manifest = m) => {
    try {
      validatePreviewSpec(raw, manifest, 16);
    } catch (err) {
      assert.ok(err instanceof InvalidArgumentError);
      return err.field;
    }
    return undefined;
  };
  assert.equal(field({ everySeconds: -1, frames: 0, width: 0, source: '' }), 'spec.previews.every_seconds');
  assert.equal(field({ everySeconds: Number.NaN, frames: 0, width: 0, source: '' }), 'spec.previews.every_seconds');
  assert.equal(field({ frames: 17, width: 0, source: '' }), 'spec.previews.frames');
  assert.equal(field({ frames: 0, width: 1000, source: '' }), 'spec.previews.width');
  assert.equal(field({ frames: 0, width: 0, source: 'jpeg' }), 'spec.previews.source');
  assert.equal(field({ frames: 0, width: 0, source: 'map' }, noMap), 'spec.previews.source');
  assert.equal(field({ frames: 0, width: 0, source: '' }, { ...noMap, decoder: undefined }), 'spec.previews');
});

test('previews - an observed denoise shows the necessary predictions only, as frame readers over x0', async () => {
  const seen: { step: number; first: number }[] = [];
  const dims3 = { frames: 2, height: 1, width: 2 };
  // x0 [C=2, F=2, 1, 2]: value = 10 * step + index.
  const denoise = observedDenoise(
    async (_sample, step) => ({ x0: Float32Array.from({ length: 8 }, (_, i) => 10 * step + i), eps: new Float32Array(8) }),
    dims3,
    (step, read) => {
      const out = new Float32Array(2);
      read(1, 1, 2, out); // channel 1, frame 1: elements 6, 7
      seen.push({ step, first: out[0]! });
    },
  );
  await denoise(new Float32Array(8), 3);
  await denoise(new Float32Array(8), 4, undefined, { speculative: true });
  await denoise(new Float32Array(8), 5, undefined, {});
  assert.deepEqual(seen, [
    { step: 3, first: 36 },
    { step: 5, first: 56 },
  ]);
});
