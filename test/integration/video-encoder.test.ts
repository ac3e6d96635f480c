/**
 * FfmpegEncoder against the real ffmpeg/ffprobe binaries: container facts,
 * pixel fidelity, option validation, failure surfacing, abort and cleanup.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isExecutableFile, resolveBinary } from '../../coordinator/video/binaries.ts';
import { EncoderError, FfmpegEncoder, float01ToRgb24 } from '../../coordinator/video/encoder.ts';
import type { EncodeResult, FrameSink } from '../../coordinator/video/encoder.ts';
import { BinaryNotFoundError, ProbeError } from '../../coordinator/video/errors.ts';
import { assertVideoStream, decodeFrameRgb, meanRgb, probeVideo } from '../helpers/ffprobe.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'propeller-video-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Frame t of a gradient that scrolls right 4 px per frame and brightens in blue over time. */
function gradientFrame(t: number, frames: number, height: number, width: number): Uint8Array {
  const plane = height * width;
  const chw = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      chw[i] = (((x + 4 * t) % width) / width) * 0.8 + 0.1;
      chw[plane + i] = (y / height) * 0.8 + 0.1;
      chw[2 * plane + i] = 0.1 + (0.8 * t) / Math.max(1, frames - 1);
    }
  }
  return float01ToRgb24(chw, height, width);
}

async function encodeGradient(sink: FrameSink, frames: number, height: number, width: number): Promise<EncodeResult> {
  for (let t = 0; t < frames; t++) await sink.writeFrame(gradientFrame(t, frames, height, width));
  return sink.finish();
}

/** Live (or zombie) ffmpeg children of this test process, from /proc. */
function ffmpegChildren(): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ..." — comm may contain spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && comm.startsWith('ffmpeg')) out.push({ pid: Number(entry), state: state ?? '?' });
    } catch {
      // process vanished between readdir and read
    }
  }
  return out;
}

function leftovers(path: string): string[] {
  return [path, `${path}.partial`].filter((p) => existsSync(p));
}

describe('float01ToRgb24 - planar float to interleaved bytes', () => {
  it('rounds, clamps and maps NaN to 0', () => {
    // [3, 1, 2]: R plane, G plane, B plane
    const chw = new Float32Array([0, 1, 0.5, 1.7, Number.NaN, -0.2]);
    assert.deepEqual([...float01ToRgb24(chw, 1, 2)], [0, 128, 0, 255, 255, 0]);
    assert.equal(float01ToRgb24(new Float32Array([0.45 / 255, 0, 0]), 1, 1)[0], 0);
    assert.equal(float01ToRgb24(new Float32Array([254.4 / 255, 0, 0]), 1, 1)[0], 254);
    assert.equal(float01ToRgb24(new Float32Array([254.6 / 255, 0, 0]), 1, 1)[0], 255);
    assert.deepEqual([...float01ToRgb24(new Float32Array([Infinity, -Infinity, 0.2]), 1, 1)], [255, 0, 51]);
  });

  it('rejects a buffer of the wrong length', () => {
    assert.throws(() => float01ToRgb24(new Float32Array(11), 2, 2), RangeError);
  });
});

describe('encode - mp4 (H.264) round trip', () => {
  const W = 256;
  const H = 256;
  const FRAMES = 48;
  let path: string;
  let result: EncodeResult;
  let seconds = 0;

  before(async () => {
    path = join(dir, 'gradient.mp4');
    const sink = new FfmpegEncoder().open({ width: W, height: H, fps: 24, format: 'mp4', outputPath: path });
    const t0 = performance.now();
    result = await encodeGradient(sink, FRAMES, H, W);
    seconds = (performance.now() - t0) / 1000;
  });

  it('finish() reports the file, its size and the frame count, and leaves no partial', (t) => {
    t.diagnostic(`encode speed ${(FRAMES / seconds).toFixed(0)} frames/s at ${W}x${H} incl. spawn and frame generation`);
    assert.equal(result.path, path);
    assert.equal(result.frames, FRAMES);
    assert.ok(result.bytes > 1000, `suspiciously small file: ${result.bytes} bytes`);
    assert.deepEqual(leftovers(path), [path]);
  });

  it('ffprobe sees h264, 256x256, 48 frames, 24 fps, yuv420p', async () => {
    const probe = await probeVideo(path);
    assertVideoStream(probe, { codec: 'h264', width: W, height: H, frames: FRAMES, fps: 24, pixFmt: 'yuv420p' });
    assert.ok(Math.abs(probe.durationSeconds - 2) < 0.1, `duration ${probe.durationSeconds}`);
  });

  it('pixel content survives: decoded frames match the source within tolerance', async () => {
    for (const t of [0, 20, 47]) {
      const source = gradientFrame(t, FRAMES, H, W);
      const decoded = await decodeFrameRgb(path, t, W, H);
      const [ms, md] = [meanRgb(source), meanRgb(decoded)];
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(ms[c]! - md[c]!) < 3, `frame ${t} channel ${c}: source mean ${ms[c]}, decoded ${md[c]}`);
      }
      let absErr = 0;
      for (let i = 0; i < source.length; i++) absErr += Math.abs(source[i]! - decoded[i]!);
      assert.ok(absErr / source.length < 4, `frame ${t}: mean abs error ${absErr / source.length}`);
    }
  });
});

describe('encode - webm (VP9)', () => {
  it('encodes and probes as vp9 with the right size, count and rate', async () => {
    const path = join(dir, 'gradient.webm');
    const sink = new FfmpegEncoder().open({ width: 128, height: 96, fps: 12, format: 'webm', outputPath: path });
    const result = await encodeGradient(sink, 24, 96, 128);
    assert.equal(result.frames, 24);
    const probe = await probeVideo(path);
    assertVideoStream(probe, { codec: 'vp9', width: 128, height: 96, frames: 24, fps: 12, pixFmt: 'yuv420p' });
    assert.ok(Math.abs(probe.durationSeconds - 2) < 0.15, `duration ${probe.durationSeconds}`);
    const [ms, md] = [meanRgb(gradientFrame(10, 24, 96, 128)), meanRgb(await decodeFrameRgb(path, 10, 128, 96))];
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(ms[c]! - md[c]!) < 4, `channel ${c}: ${ms[c]} vs ${md[c]}`);
    assert.deepEqual(leftovers(path), [path]);
  });
});

describe('encode - option and usage errors', () => {
  const enc = new FfmpegEncoder();

  it('rejects odd width and height up front, naming the field', () => {
    const outputPath = join(dir, 'odd.mp4');
    for (const [width, height, field] of [[255, 256, 'width'], [256, 101, 'height']] as const) {
      assert.throws(
        () => enc.open({ width, height, fps: 24, format: 'mp4', outputPath }),
        (err: unknown) =>
          err instanceof EncoderError && err.field === field && err.operation === 'open' && err.message.includes(field) &&
          /even/.test(err.message),
      );
    }
    assert.throws(() => enc.open({ width: 64, height: 64, fps: 0, format: 'mp4', outputPath }), /fps/);
    assert.throws(() => enc.open({ width: 64, height: 64, fps: 24, format: 'mp4', crf: 70, outputPath }), /crf/);
    assert.deepEqual(leftovers(outputPath), []);
  });

  it('rejects frames of the wrong size and writes after finish', async () => {
    const path = join(dir, 'usage.mp4');
    const sink = enc.open({ width: 64, height: 48, fps: 24, format: 'mp4', outputPath: path });
    await assert.rejects(sink.writeFrame(new Uint8Array(64 * 48 * 3 - 1)), (err: unknown) =>
      err instanceof EncoderError && /9215 bytes/.test(err.message) && /9216/.test(err.message),
    );
    await sink.writeFrame(new Uint8Array(64 * 48 * 3).fill(100));
    const result = await sink.finish();
    assert.equal(result.frames, 1);
    assert.strictEqual(sink.finish(), sink.finish(), 'finish() keeps its promise');
    await assert.rejects(sink.writeFrame(new Uint8Array(64 * 48 * 3)), /after finish/);
    await sink.abort(); // no-op on a finished file
    assert.deepEqual(leftovers(path), [path]);
  });

  it('finish() with no frames rejects and leaves nothing', async () => {
    const path = join(dir, 'empty.mp4');
    const sink = enc.open({ width: 64, height: 48, fps: 24, format: 'mp4', outputPath: path });
    await assert.rejects(sink.finish(), /before any frame/);
    assert.deepEqual(leftovers(path), []);
    assert.deepEqual(ffmpegChildren(), []);
  });
});

describe('encode - ffmpeg failures surface', () => {
  it('an unwritable output directory fails with ffmpeg stderr, and no file', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x'); // a file where a directory should be: unwritable even for root
    const path = join(blocker, 'out.mp4');
    const sink = new FfmpegEncoder().open({ width: 64, height: 64, fps: 24, format: 'mp4', outputPath: path });
    const failure = (async () => {
      for (let t = 0; t < 200; t++) await sink.writeFrame(gradientFrame(t, 200, 64, 64));
      return sink.finish();
    })();
    await assert.rejects(failure, (err: unknown) => {
      assert.ok(err instanceof EncoderError, String(err));
      assert.equal(err.operation, 'ffmpeg');
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /Not a directory/);
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.stderrTail, /Not a directory/);
      return true;
    });
    await assert.rejects(sink.finish(), /Not a directory/);
    assert.deepEqual(leftovers(path), []);
    assert.deepEqual(ffmpegChildren(), []);
  });

  it('an encoder failure after the file was opened removes the partial file', async () => {
    const path = join(dir, 'bad-preset.mp4');
    const sink = new FfmpegEncoder({ preset: 'nosuchpreset' }).open({
      width: 64, height: 64, fps: 24, format: 'mp4', outputPath: path,
    });
    await assert.rejects(encodeGradient(sink, 50, 64, 64), (err: unknown) =>
      err instanceof EncoderError && /nosuchpreset/.test(err.message) && err.message.includes('libx264'),
    );
    assert.deepEqual(leftovers(path), []);
  });
});

describe('encode - abort', () => {
  it('abort mid-encode kills ffmpeg and leaves no file', async () => {
    const path = join(dir, 'aborted.mp4');
    const sink = new FfmpegEncoder().open({ width: 256, height: 256, fps: 24, format: 'mp4', outputPath: path });
    for (let t = 0; t < 30; t++) await sink.writeFrame(gradientFrame(t, 30, 256, 256));
    await sink.abort(new Error('job cancelled'));
    assert.deepEqual(leftovers(path), []);
    assert.deepEqual(ffmpegChildren(), [], 'ffmpeg reaped, no zombie');
    await assert.rejects(sink.writeFrame(gradientFrame(0, 1, 256, 256)), /aborted: job cancelled/);
    await assert.rejects(sink.finish(), /aborted/);
    await sink.abort(); // idempotent
  });

  it('abort right after open (racing the spawn) leaves no file and no process', async () => {
    const path = join(dir, 'aborted-early.mp4');
    const sink = new FfmpegEncoder().open({ width: 64, height: 64, fps: 24, format: 'mp4', outputPath: path });
    await sink.abort();
    assert.deepEqual(leftovers(path), []);
    assert.deepEqual(ffmpegChildren(), []);
  });

  it('abort while finish() waits makes finish reject and removes the file', async () => {
    const path = join(dir, 'aborted-finishing.mp4');
    const sink = new FfmpegEncoder().open({ width: 256, height: 256, fps: 24, format: 'mp4', outputPath: path });
    for (let t = 0; t < 10; t++) await sink.writeFrame(gradientFrame(t, 10, 256, 256));
    const finishing = assert.rejects(sink.finish(), /aborted/);
    await sink.abort();
    await finishing;
    assert.deepEqual(leftovers(path), []);
  });
});

describe('binaries - ffmpeg and ffprobe are executable', () => {
  it('resolves executable binaries', () => {
    assert.ok(isExecutableFile(resolveBinary('ffmpeg')));
    assert.ok(isExecutableFile(resolveBinary('ffprobe')));
  });

  it('a non-executable explicit binary fails with how to fix it', async () => {
    const fake = join(dir, 'ffprobe');
    await writeFile(fake, '#!/bin/sh\n');
    await chmod(fake, 0o644);
    assert.throws(
      () => resolveBinary('ffprobe', fake),
      (err: unknown) => err instanceof BinaryNotFoundError && err.message.includes(`chmod +x ${fake}`),
    );
    await assert.rejects(probeVideo(join(dir, 'gradient.mp4'), { ffprobePath: fake }), BinaryNotFoundError);
  });

  it('probing a file that is not a video fails with ProbeError', async () => {
    const junk = join(dir, 'junk.mp4');
    await writeFile(junk, 'not a video');
    await assert.rejects(probeVideo(junk), (err: unknown) => err instanceof ProbeError && err.path === junk);
  });
});
