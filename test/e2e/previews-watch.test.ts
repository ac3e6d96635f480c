import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_MAIN } from '../../cli/worker-process.ts';
import type { JobEvent__Output } from '../../common/proto/generated/propeller/v1/JobEvent.ts';
import { pickFrames, resizeInto } from '../../coordinator/previews/pixels.ts';
import { decodePng } from '../../coordinator/previews/png.ts';
import { decodeFrameRgb } from '../helpers/ffprobe.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';

const cluster = workerAndCoordinator();
const STEPS = 60;
const video = { frames: 16, width: 128, height: 128 };

/** Mean per-pixel RGB distance (0..441) of two RGB24 images of the same size. */
function colourDistance(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i += 3) sum += Math.hypot(a[i]! - b[i]!, a[i + 1]! - b[i + 1]!, a[i + 2]! - b[i + 2]!);
  return sum / (a.length / 3);
}

/**
 * Submits an unconditional 60-step job with a preview after every step
 * (every_seconds 0: as many as the producer keeps up with, however slow the
 * machine) and watches it; returns the preview events, the final event and
 * the downloaded video.
 */
async function watchWithPreviews(source: 'map' | 'decoder') {
  const { client } = cluster;
  const job = await client.submit({ model: 'field-mixture', prompt: '', ...video, steps: STEPS, seed: 5, previews: { everySeconds: 0, frames: 4, width: 256, source } });
  // The spec comes back with the settings as run.
  assert.deepEqual(job.spec?.previews, { everySeconds: 0, frames: 4, width: 256, source, _everySeconds: 'everySeconds' });
  const events: JobEvent__Output[] = [];
  const last = await client.watch(job.id, (e) => events.push(e));
  assert.equal(last.state, 'SUCCEEDED');
  const out = join(mkdtempSync(join(tmpdir(), 'propeller-previews-')), 'out.mp4');
  await client.download(job.id, out);
  const previews = events.filter((e) => e.preview && !e.preview.contactSheet);
  // The job's metrics count the previews made (a Watch client that falls behind may miss some) and their time.
  assert.ok(last.metrics.previews! >= previews.length && last.metrics.preview_main_thread_ms! > 0, JSON.stringify(last.metrics));
  return { previews, final: events.at(-1)!, out };
}

for (const source of ['map', 'decoder'] as const) {
  test(`e2e - Watch streams previews (${source}) that move toward the finished video, then its contact sheet`, { timeout: 300_000 }, async () => {
    const { previews, final, out } = await watchWithPreviews(source);
    assert.ok(previews.length >= 3, `${previews.length} previews arrived before the job ended`);
    const steps = previews.map((e) => e.preview!.step);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'previews come in step order');
    for (const e of previews) {
      assert.equal(e.message, `preview of step ${e.preview!.step}`);
      assert.ok(e.job && e.job.state !== 'SUCCEEDED', 'every preview arrives before the job ends');
      assert.equal(e.preview!.mimeType, 'image/png');
      const png = decodePng(e.preview!.image);
      assert.deepEqual([png.width, png.height], [e.preview!.width, e.preview!.height]);
      // Four 64x64 frames side by side in 256 pixels.
      assert.deepEqual([png.width, png.height, e.preview!.frames, e.preview!.totalSteps], [256, 64, 4, STEPS]);
    }

    // ffmpeg reads the first preview as the same picture (an independent decoder).
    const firstPng = join(mkdtempSync(join(tmpdir(), 'propeller-preview-')), 'first.png');
    writeFileSync(firstPng, previews[0]!.preview!.image);
    assert.deepEqual(await decodeFrameRgb(firstPng, 0, 256, 64), decodePng(previews[0]!.preview!.image).rgb);

    // The finished video's frames the strip shows, shrunk to its tiles the same way.
    const tile = { width: 64, height: 64 };
    const reference = new Uint8Array(256 * 64 * 3);
    const shown = pickFrames(video.frames, 4);
    for (let i = 0; i < shown.length; i++) {
      const frame = await decodeFrameRgb(out, shown[i]!, video.width, video.height);
      resizeInto(frame, video.width, video.height, reference, { x: i * tile.width, y: 0, ...tile, canvasWidth: 256 });
    }
    const distances = previews.map((e) => colourDistance(decodePng(e.preview!.image).rgb, reference));
    // DDIM's x0 prediction starts near the prior's mean (the mix of every
    // component's colour, no texture) and sharpens into the sample as the
    // noise goes: the distance falls from the first preview to the last, and
    // each third of the previews is closer on average than the one before.
    const third = Math.max(1, Math.floor(distances.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [early, middle, late] = [mean(distances.slice(0, third)), mean(distances.slice(third, distances.length - third)), mean(distances.slice(-third))];
    const msg = `distances ${distances.map((d) => d.toFixed(1)).join(', ')}`;
    assert.ok(distances.at(-1)! < distances[0]! / 2, msg);
    assert.ok(early > middle && middle > late, msg);

    // The SUCCEEDED event carries a contact sheet: 12 frames, 4 x 3 cells of 64 px.
    assert.equal(final.job?.state, 'SUCCEEDED');
    const sheet = final.preview;
    assert.ok(sheet?.contactSheet, 'the final event carries the contact sheet');
    const png = decodePng(sheet.image);
    assert.deepEqual([png.width, png.height, sheet.frames, sheet.step], [256, 192, 12, STEPS]);
    // Its first cell is the video's first frame, shrunk (the sheet is cut from
    // the decoder's frames, the reference from the MP4, whose crf 18 and 4:2:0
    // chroma move colours a little): nearer to it than to the last frame.
    const shrunk = async (index: number) => {
      const into = new Uint8Array(64 * 64 * 3);
      resizeInto(await decodeFrameRgb(out, index, video.width, video.height), video.width, video.height, into, { x: 0, y: 0, ...tile, canvasWidth: 64 });
      return into;
    };
    const cell = new Uint8Array(64 * 64 * 3);
    for (let y = 0; y < 64; y++) cell.set(png.rgb.subarray(y * 256 * 3, (y * 256 + 64) * 3), y * 64 * 3);
    const [toFirst, toLast] = [colourDistance(cell, await shrunk(0)), colourDistance(cell, await shrunk(video.frames - 1))];
    assert.ok(toFirst < 12 && toFirst < toLast, `the first cell is ${toFirst} from the first frame, ${toLast} from the last`);
  });
}

test('e2e - propeller submit --wait --preview FILE leaves the contact sheet in FILE; watch --preview of the finished job writes it again', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-preview-cli-'));
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_MAIN, ...args, '--address', cluster.coordinator.address], { env: { ...process.env, PROPELLER_LOG_LEVEL: 'warn' } });
  const live = join(dir, 'live.png');
  const submitted = await cli(['submit', '--wait', '--prompt', 'fire', '--frames', '16', '--height', '128', '--width', '128', '--steps', '20', '--seed', '3', '--preview', live, '--preview-every', '0', '--out', join(dir, 'fire.mp4')]);
  assert.match(submitted.stderr, new RegExp(`wrote ${live} \\(contact sheet\\)`));
  // 12 frames in 4 columns of 128 px (the default width, 512).
  const sheet = decodePng(readFileSync(live));
  assert.deepEqual([sheet.width, sheet.height], [512, 384]);
  const id = /job (\S+) submitted/.exec(submitted.stderr)![1]!;
  const again = join(dir, 'again.png');
  await cli(['watch', id, '--preview', again]);
  assert.deepEqual(readFileSync(again), readFileSync(live));
});
