import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePng, encodePng } from '../../coordinator/previews/png.ts';
import { interleave, mapLatentFrame, pickFrames, resizeInto, shrinkPlanes, tileSize } from '../../coordinator/previews/pixels.ts';
import { ContactSheet } from '../../coordinator/previews/contact-sheet.ts';

test('previews - a PNG decodes back to the same pixels', async () => {
  const w = 37;
  const h = 11;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) % 256;
  const png = await encodePng(rgb, w, h);
  const back = decodePng(png);
  assert.equal(back.width, w);
  assert.equal(back.height, h);
  assert.deepEqual(back.rgb, rgb);
  await assert.rejects(encodePng(rgb, w, h + 1), RangeError);
});

test('previews - frames are spread evenly, first and last included', () => {
  assert.deepEqual(pickFrames(16, 4), [0, 5, 10, 15]);
  assert.deepEqual(pickFrames(3, 4), [0, 1, 2]);
  assert.deepEqual(pickFrames(10, 1), [0]);
});

test('previews - tiles keep the aspect ratio within the width and the height bound', () => {
  assert.deepEqual(tileSize(512, 4, 256, 256), { width: 128, height: 128 });
  assert.deepEqual(tileSize(512, 4, 512, 256), { width: 128, height: 64 });
  // Very tall: capped at 512 px high, narrower.
  assert.deepEqual(tileSize(512, 1, 100, 1000), { width: 51, height: 512 });
});

test('previews - the colour map is bias + latent x matrix, clipped', () => {
  // 2 channels, 2 pixels.
  const latent = new Float32Array([1, -10, 0.5, 0]);
  const map = { matrix: [[0.2, 0, 0], [0, 0.1, 0.3]], bias: [0.5, 0.5, 0.25] };
  const out = mapLatentFrame(latent, 2, 2, map, new Uint8Array(6));
  // pixel 0: z = (1, 0.5): r = 0.7, g = 0.55, b = 0.4; pixel 1: z = (-10, 0): r = -1.5 -> 0, g = 0.5, b = 0.25.
  assert.deepEqual([...out], [Math.round(0.7 * 255), Math.round(0.55 * 255), Math.round(0.4 * 255), 0, Math.round(0.5 * 255), Math.round(0.25 * 255)]);
});

test('previews - resizing averages boxes when shrinking and repeats pixels when enlarging', () => {
  // 2x2 source: red, green / blue, white.
  const src = interleave(new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]), 4);
  const one = new Uint8Array(3);
  resizeInto(src, 2, 2, one, { x: 0, y: 0, width: 1, height: 1, canvasWidth: 1 });
  assert.deepEqual([...one], [128, 128, 128]);
  const big = new Uint8Array(4 * 4 * 3);
  resizeInto(src, 2, 2, big, { x: 0, y: 0, width: 4, height: 4, canvasWidth: 4 });
  assert.deepEqual([...big.subarray(0, 3)], [255, 0, 0]);
  assert.deepEqual([...big.subarray((3 * 4 + 3) * 3)], [255, 255, 255]);
});

test('previews - a contact sheet places each picked frame in its grid cell', async () => {
  const video = { frames: 8, width: 4, height: 2 };
  const sheet = new ContactSheet(video, 16, 4);
  assert.equal(sheet.frames, 4);
  assert.equal(sheet.width, 16);
  assert.equal(sheet.height, 2);
  for (let f = 0; f < video.frames; f++) sheet.offer(new Uint8Array(video.width * video.height * 3).fill(f * 30), f);
  const png = decodePng(await sheet.png());
  // Frames 0, 2, 5, 7 (evenly spread), one per 4-pixel cell.
  assert.deepEqual([0, 1, 2, 3].map((i) => png.rgb[i * 4 * 3]), [0, 60, 150, 210]);
});

test('previews - shrinking planes averages blocks, edge blocks over what they hold', () => {
  // Two 3x3 planes, factor 2 -> 2x2 each.
  const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 4, 0, 0, 0, 8]);
  assert.deepEqual([...shrinkPlanes(src, 2, 3, 3, 2)], [3, 4.5, 7.5, 9, 1, 0, 0, 8]);
  assert.equal(shrinkPlanes(src, 2, 3, 3, 1), src);
});
