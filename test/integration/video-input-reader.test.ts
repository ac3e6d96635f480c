import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputMediaError } from '../../coordinator/video/errors.ts';
import { probeInput, readInputFrames, type FrameGeometry } from '../../coordinator/video/input-reader.ts';
import { syntheticFrame, writeTestPng, writeTestVideo } from '../helpers/media.ts';

const dir = mkdtempSync(join(tmpdir(), 'input-reader-'));
const video = join(dir, 'video');
const webm = join(dir, 'webm');
const png = join(dir, 'image');
const pngFrame = syntheticFrame(96, 160, 3);

before(async () => {
  await writeTestVideo(video, { width: 96, height: 160, frames: 12 });
  await writeTestVideo(webm, { width: 64, height: 64, frames: 5, format: 'webm' });
  writeTestPng(png, pngFrame, 96, 160);
});

async function collect(path: string, g: FrameGeometry, maxFrames: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const f of readInputFrames(path, g, { maxFrames })) frames.push(f);
  return frames;
}

test('input reader - probe: videos and images, frames counted, no file name needed', async () => {
  assert.deepEqual(await probeInput(video), { kind: 'video', width: 96, height: 160, frames: 12, codec: 'h264' });
  assert.deepEqual(await probeInput(webm), { kind: 'video', width: 64, height: 64, frames: 5, codec: 'vp9' });
  assert.deepEqual(await probeInput(png), { kind: 'image', width: 96, height: 160, frames: 1, codec: 'png' });
});

test('input reader - garbage, empty and text files are InputMediaError, and the message hides the path', async () => {
  const garbage = join(dir, 'garbage');
  writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const text = join(dir, 'text');
  writeFileSync(text, 'hello, this is not a video\n'.repeat(50));
  for (const path of [garbage, empty, text]) {
    await assert.rejects(probeInput(path), (e: unknown) => {
      assert.ok(e instanceof InputMediaError, `${path}: ${e}`);
      assert.match(e.message, /is not an image or video ffmpeg can read/);
      assert.ok(!e.message.includes(dir), e.message);
      return true;
    });
  }
});

test('input reader - playlists that would open other server files are refused', async () => {
  const concat = join(dir, 'concat');
  writeFileSync(concat, "ffconcat version 1.0\nfile 'image'\n");
  await assert.rejects(probeInput(concat), InputMediaError);
  await assert.rejects(collect(concat, { width: 64, height: 64, fit: 'cover' }, 4), InputMediaError);
  const hls = join(dir, 'hls');
  writeFileSync(hls, '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nvideo\n#EXT-X-ENDLIST\n');
  await assert.rejects(probeInput(hls), InputMediaError);
});

test('input reader - frames come one at a time at the wanted size, up to maxFrames', async () => {
  const cover = await collect(video, { width: 64, height: 64, fit: 'cover' }, 100);
  assert.equal(cover.length, 12);
  for (const f of cover) assert.equal(f.length, 64 * 64 * 3);
  assert.equal((await collect(video, { width: 64, height: 64, fit: 'cover' }, 5)).length, 5);
  const fill = await collect(webm, { width: 32, height: 48, fit: 'fill' }, 100);
  assert.equal(fill.length, 5);
  assert.equal(fill[0]!.length, 32 * 48 * 3);
  // an image at its own size comes back exactly (PNG is lossless)
  const [same] = await collect(png, { width: 96, height: 160, fit: 'fill' }, 10);
  assert.deepEqual(same, pngFrame);
  // cover crops the centre: a 96x160 image at 96x96 keeps its middle rows
  const [cropped] = await collect(png, { width: 96, height: 96, fit: 'cover' }, 1);
  assert.deepEqual(cropped, pngFrame.subarray(32 * 96 * 3, (32 + 96) * 96 * 3));
});

test('input reader - breaking out early stops ffmpeg; an aborted read rejects', async () => {
  let n = 0;
  for await (const f of readInputFrames(video, { width: 64, height: 64, fit: 'cover' }, { maxFrames: 100 })) {
    assert.equal(f.length, 64 * 64 * 3);
    if (++n === 2) break;
  }
  assert.equal(n, 2);
  const ctl = new AbortController();
  ctl.abort(new Error('stop'));
  await assert.rejects(collect2(ctl.signal), /stop|aborted/);
});

async function collect2(signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const _ of readInputFrames(video, { width: 64, height: 64, fit: 'cover' }, { maxFrames: 100, signal })) n++;
  return n;
}
