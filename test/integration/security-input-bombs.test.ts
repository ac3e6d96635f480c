import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { resolveBinary } from '../../coordinator/video/binaries.ts';
import { imageHeaderSize } from '../../coordinator/video/image-header.ts';
import { probeInput } from '../../coordinator/video/input-reader.ts';
import { InputMediaError } from '../../coordinator/video/errors.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';
import { writeTestPng, syntheticFrame } from '../helpers/media.ts';

/**
 * Decompression bombs: small uploads that decode to gigabytes. A PNG of
 * 16000 x 16000 (250 KB of 8-bit grayscale zeros here) would be a 768 MB RGB
 * frame in ffprobe and again in ffmpeg; a video of 8192 x 8192 frames 200 KB.
 * Both are refused before any decoder allocates a frame, the image by its
 * header before any process runs.
 */
const cluster = workerAndCoordinator();
const dir = mkdtempSync(join(tmpdir(), 'propeller-bombs-'));

/** A valid PNG of `w x h` 8-bit grayscale zeros: small compressed, `w * h` bytes decoded. */
function pngBomb(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const rows = Buffer.alloc(h * (1 + w)); // filter byte 0 + zero pixels per row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const base: JobSpec = { model: 'field-mixture', prompt: 'clouds', frames: 16, height: 128, width: 128, fps: 8, steps: 2, seed: 1, output: { format: 'latent' } };

async function refused(spec: JobSpec, message: RegExp): Promise<number> {
  const started = performance.now();
  await assert.rejects(cluster.client.submit(spec), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT, `${grpc.status[e.code]}: ${e.details}`);
    assert.match(e.details, message);
    return true;
  });
  return performance.now() - started;
}

test('input bombs - image headers give the picture size without decoding (png, gif, bmp, webp, jpeg)', () => {
  const frame = syntheticFrame(40, 24, 0);
  for (const [ext, codec] of [['png', 'png'], ['gif', 'gif'], ['bmp', 'bmp'], ['webp', 'libwebp'], ['jpg', 'mjpeg']] as const) {
    const path = join(dir, `small.${ext}`);
    const res = spawnSync(resolveBinary('ffmpeg'), ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '40x24', '-i', 'pipe:0', '-frames:v', '1', '-c:v', codec, ...(ext === 'jpg' ? ['-pix_fmt', 'yuvj420p'] : []), '-f', 'image2', path], { input: frame });
    assert.equal(res.status, 0, res.stderr.toString());
    const size = imageHeaderSize(readFileSync(path));
    assert.ok(size, `${ext}: no size read`);
    assert.deepEqual([size.width, size.height], [40, 24], ext);
  }
  assert.deepEqual(imageHeaderSize(pngBomb(16000, 16000)), { format: 'png', width: 16000, height: 16000 });
  assert.equal(imageHeaderSize(Buffer.from('not an image at all')), undefined);
  assert.equal(imageHeaderSize(Buffer.from([0xff, 0xd8, 0xff])), undefined, 'a truncated JPEG');
});

test('input bombs - a 16000x16000 PNG is refused by its header, at once, and nothing is stored', async () => {
  const bomb = pngBomb(16000, 16000);
  assert.ok(bomb.length < 2_000_000, `${bomb.length} bytes`);
  const ms = await refused({ ...base, mode: 'image_to_video', input: { data: bomb } }, /^spec\.input\.data is a png image of 16000x16000, 256000000 pixels; inputs may have at most 16777216/);
  assert.ok(ms < 5_000, `took ${ms} ms`);
  assert.deepEqual(readdirSync(join(cluster.coordinator.config.dataDir, 'inputs')).filter((f) => !f.startsWith('.')), []);
});

test('input bombs - ffprobe gets the pixel limit: under a 200 MB memory cap it refuses the bomb instead of failing to allocate it', async () => {
  const path = join(dir, 'bomb.png');
  writeFileSync(path, pngBomb(16000, 16000));
  // An ffprobe that may use at most 200 MB of address space (the bomb's frame alone is 256 MB of gray).
  const capped = join(dir, 'ffprobe-capped');
  writeFileSync(capped, `#!/bin/sh\nulimit -v 200000\nexec '${resolveBinary('ffprobe')}' "$@"\n`);
  chmodSync(capped, 0o755);
  // The cap leaves ffprobe room for a real input.
  const small = join(dir, 'small-capped.png');
  writeTestPng(small, syntheticFrame(64, 48, 0), 64, 48);
  assert.deepEqual(await probeInput(small, { ffprobePath: capped }), { kind: 'image', width: 64, height: 48, frames: 1, codec: 'png' });
  const err = await probeInput(path, { ffprobePath: capped }).then(
    () => assert.fail('the bomb was probed as if it were an input'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InputMediaError, String(err));
  assert.match(err.message, /within 16777216 pixels|at most 16777216 pixels/);
  // The decoder's own check fired (no allocation tried); without the limit it runs out of memory instead.
  assert.match(`${err.message} ${err.stderrTail ?? ''}`, /exceeds specified max pixel count/);
  assert.doesNotMatch(`${err.message} ${err.stderrTail ?? ''}`, /get_buffer|Cannot allocate/);
  const unbounded = spawnSync(capped, ['-v', 'error', '-count_frames', '-show_entries', 'stream=width', '-of', 'csv', path]);
  assert.match(unbounded.stderr.toString(), /get_buffer\(\) failed|Cannot allocate/, 'the control run without the limit tries to allocate the frame');
});

test('input bombs - an 8192x8192 video is refused before its frames are decoded', { timeout: 120_000 }, async () => {
  const path = join(dir, 'bomb.mp4');
  const res = spawnSync(resolveBinary('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=8192x8192:r=4', '-frames:v', '2', '-c:v', 'libx264', '-preset', 'ultrafast', path]);
  assert.equal(res.status, 0, res.stderr.toString());
  const bytes = readFileSync(path);
  assert.ok(bytes.length < 1_000_000, `${bytes.length} bytes`);
  await refused({ ...base, mode: 'video_to_video', input: { data: bytes } }, /^spec\.input\.data .*16777216 pixels/);
  // A real input still goes through.
  const png = join(dir, 'ok.png');
  writeTestPng(png, syntheticFrame(128, 128, 0), 128, 128);
  const job = await cluster.client.submit({ ...base, mode: 'image_to_video', input: { data: readFileSync(png) } });
  assert.equal((await cluster.client.watch(job.id, () => undefined)).state, 'SUCCEEDED');
});
