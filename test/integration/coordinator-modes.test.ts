/**
 * The masked modes end to end: a real coordinator and worker, inputs
 * uploaded as bytes, decoded by real ffmpeg, encoded by the model's encoder,
 * jobs in latent output compared with the input's own latent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import { readInputFrames, type FrameGeometry } from '../../coordinator/video/input-reader.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { syntheticFrame, writeTestPng, writeTestVideo } from '../helpers/media.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
let client: JobClient;
const dir = mkdtempSync(join(tmpdir(), 'modes-'));
const media = {
  png: join(dir, 'portrait.png'),
  square8: join(dir, 'square8.mp4'),
  square16: join(dir, 'square16.mp4'),
  portrait16: join(dir, 'portrait16.mp4'),
};

before(async () => {
  worker = await startTestWorker();
  coordinator = await startTestCoordinator({ workers: [worker.address] });
  client = new JobClient(coordinator.address);
  writeTestPng(media.png, syntheticFrame(96, 160, 0), 96, 160);
  await writeTestVideo(media.square8, { width: 128, height: 128, frames: 8 });
  await writeTestVideo(media.square16, { width: 128, height: 128, frames: 16 });
  await writeTestVideo(media.portrait16, { width: 72, height: 128, frames: 16 });
});

after(async () => {
  client.close();
  await coordinator.close();
  await worker.drain();
});

const base: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 8, seed: 21, output: { format: 'latent' } };
const C = 4;

/** Runs a latent job to SUCCEEDED and reads its latent. */
async function run(spec: JobSpec): Promise<{ shape: number[]; data: Float32Array }> {
  const job = await client.submit(spec);
  const last = await client.watch(job.id, () => undefined);
  assert.equal(last.state, 'SUCCEEDED', last.error);
  const path = join(mkdtempSync(join(tmpdir(), 'dl-')), 'o.latent');
  await client.download(job.id, path);
  return readLatent(readFileSync(path));
}

/** The input's latent `[C, n, h, w]`, read and encoded independently of the job (frame by frame). */
async function inputLatent(path: string, g: FrameGeometry, n: number): Promise<Float32Array> {
  const h = g.height / 4;
  const w = g.width / 4;
  const out = new Float32Array(C * n * h * w);
  let f = 0;
  for await (const rgb of readInputFrames(path, g, { maxFrames: n })) {
    const plane = g.width * g.height;
    const planar = new Uint8Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) planar[c * plane + p] = rgb[3 * p + c]!;
    const res = await coordinator.dispatcher.encode('field-mixture', planar, [1, 3, g.height, g.width]);
    for (let c = 0; c < C; c++) out.set(res.data.subarray(c * h * w, (c + 1) * h * w), (c * n + f) * h * w);
    f++;
  }
  assert.equal(f, n);
  return out;
}

/** Max |a - b| over frames [f0, f1) and the box [y0, y0+bh) x [x0, x0+bw) of a `[C, F, H, W]` latent vs a `[C, nf, bh, bw]` one. */
function maxDiff(
  a: { shape: number[]; data: Float32Array },
  b: Float32Array,
  box: { f0: number; frames: number; y0: number; height: number; x0: number; width: number },
  bFrames = box.frames,
): number {
  const [, F, H, W] = a.shape as [number, number, number, number];
  let worst = 0;
  for (let c = 0; c < C; c++)
    for (let f = 0; f < box.frames; f++)
      for (let y = 0; y < box.height; y++)
        for (let x = 0; x < box.width; x++) {
          const av = a.data[((c * F + box.f0 + f) * H + box.y0 + y) * W + box.x0 + x]!;
          const bv = b[((c * bFrames + (f % bFrames)) * box.height + y) * box.width + x]!;
          worst = Math.max(worst, Math.abs(av - bv));
        }
  return worst;
}

function rms(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
}

const inputsLeft = () => readdirSync(resolve(coordinator.config.dataDir, 'inputs'));

test('modes - image_to_video keeps the encoded image as the first latent frame (sequential and Picard)', async () => {
  const known = await inputLatent(media.png, { width: 128, height: 128, fit: 'cover' }, 1);
  for (const sampler of [undefined, { kind: 'picard', window: 4, tolerance: 0.05, policy: '' }]) {
    const out = await run({ ...base, mode: 'image_to_video', input: { data: readFileSync(media.png) }, ...(sampler ? { sampler } : {}) });
    assert.deepEqual(out.shape, [C, 16, 32, 32]);
    assert.ok(maxDiff(out, known, { f0: 0, frames: 1, y0: 0, height: 32, x0: 0, width: 32 }) < 1e-6);
    // the rest is generated, not a copy of the image
    assert.ok(maxDiff(out, known, { f0: 8, frames: 1, y0: 0, height: 32, x0: 0, width: 32 }, 1) > 0.05);
    assert.ok(out.data.every(Number.isFinite));
  }
  assert.deepEqual(inputsLeft(), []);
});

test('modes - extend keeps the input frames and generates the rest of spec.frames', async () => {
  const known = await inputLatent(media.square8, { width: 128, height: 128, fit: 'cover' }, 8);
  const out = await run({ ...base, frames: 24, mode: 'extend', input: { data: readFileSync(media.square8), kind: 'video' } });
  assert.deepEqual(out.shape, [C, 24, 32, 32]);
  assert.ok(maxDiff(out, known, { f0: 0, frames: 8, y0: 0, height: 32, x0: 0, width: 32 }) < 1e-6);
  assert.ok(maxDiff(out, known.subarray(0), { f0: 16, frames: 8, y0: 0, height: 32, x0: 0, width: 32 }) > 0.05);
  assert.ok(out.data.every(Number.isFinite));
});

test('modes - expand puts a 9:16 input in the middle of a wider canvas and fills the sides', async () => {
  // 72x128 inside 224x128: 18x32 latent pixels at x0 = (56 - 18) / 2 = 19
  const known = await inputLatent(media.portrait16, { width: 72, height: 128, fit: 'fill' }, 16);
  const out = await run({ ...base, width: 224, mode: 'expand', input: { data: readFileSync(media.portrait16) } });
  assert.deepEqual(out.shape, [C, 16, 32, 56]);
  assert.ok(maxDiff(out, known, { f0: 0, frames: 16, y0: 0, height: 32, x0: 19, width: 18 }) < 1e-6);
  // the sides are generated: they vary, and they are not the input's edge column
  let lo = Infinity;
  let hi = -Infinity;
  for (let f = 0; f < 16; f++) for (let y = 0; y < 32; y++) for (let x = 0; x < 10; x++) {
    const v = out.data[(f * 32 + y) * 56 + x]!;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(hi - lo > 0.1, `left side is flat: ${lo}..${hi}`);
  assert.ok(out.data.every(Number.isFinite));
  // an image is repeated over the frames
  const still = await run({ ...base, width: 224, mode: 'expand', input: { data: readFileSync(media.png) } });
  const knownStill = await inputLatent(media.png, { width: 76, height: 128, fit: 'fill' }, 1);
  // 96x160 inside 224x128: 76.8 -> 76 pixels, 19 latent pixels at x0 = 18
  assert.ok(maxDiff(still, knownStill, { f0: 0, frames: 16, y0: 0, height: 32, x0: 18, width: 19 }, 1) < 1e-6);
  assert.deepEqual(inputsLeft(), []);
});

test('modes - video_to_video: low strength stays near the input, high strength moves away, 0 and 1 are the limits', async () => {
  const known = await inputLatent(media.square16, { width: 128, height: 128, fit: 'cover' }, 16);
  const input = { data: readFileSync(media.square16) };
  const v2v = (strength: number) => run({ ...base, steps: 10, mode: 'video_to_video', input, strength });
  const s0 = await v2v(0);
  assert.deepEqual(s0.shape, [C, 16, 32, 32]);
  assert.ok(rms(s0.data, known) < 1e-6, 'strength 0 returns the input');
  const near = rms((await v2v(0.2)).data, known);
  const far = rms((await v2v(0.9)).data, known);
  assert.ok(near < 0.5 * far, `strength 0.2 is ${near} from the input, 0.9 is ${far}`);
  // strength 1 is pure noise: the same latent as text_to_video with this seed
  const s1 = await v2v(1);
  const t2v = await run({ ...base, steps: 10 });
  assert.deepEqual(s1.data, t2v.data);
  const job = await client.submit({ ...base, mode: 'video_to_video', input });
  assert.equal(job.spec!.strength, 0.6);
  assert.equal(job.spec!.input!.data.length, 0, 'the upload is not echoed');
  assert.equal((await client.watch(job.id, () => undefined)).state, 'SUCCEEDED');
});

test('modes - bad inputs are INVALID_ARGUMENT naming the field and create no job', async () => {
  const before = (await client.list()).length;
  const expectCode = async (spec: JobSpec, message: RegExp) => {
    await assert.rejects(client.submit(spec), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT, `${grpc.status[e.code]}: ${e.details}`);
      assert.match(e.details, message);
      return true;
    });
  };
  const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256));
  await expectCode({ ...base, mode: 'image_to_video', input: { data: garbage } }, /^spec\.input\.data is not an image or video ffmpeg can read/);
  await expectCode({ ...base, mode: 'video_to_video', input: { data: Buffer.from('plain text, not a video') } }, /^spec\.input\.data is not an image or video/);
  await expectCode({ ...base, mode: 'extend' }, /^spec\.input is required for mode extend/);
  await expectCode({ ...base, input: { data: readFileSync(media.png) } }, /^spec\.input is only for image_to_video.*text_to_video takes no input/);
  await expectCode({ ...base, mode: 'outpaint', input: { data: readFileSync(media.png) } }, /^spec\.mode must be one of text_to_video, image_to_video/);
  await expectCode({ ...base, mode: 'video_to_video', input: { data: readFileSync(media.square16) }, strength: 1.5 }, /^spec\.strength must be in \[0, 1\]/);
  await expectCode({ ...base, mode: 'extend', input: { data: readFileSync(media.square16) } }, /^spec\.frames must be more than the input's 16 frames/);
  await expectCode({ ...base, mode: 'video_to_video', input: { data: readFileSync(media.square8) } }, /^spec\.input\.data has 8 frames; video_to_video needs at least spec\.frames \(16\)/);
  await expectCode({ ...base, mode: 'expand', input: { data: readFileSync(media.png), kind: 'audio' } }, /^spec\.input\.kind must be "image", "video"/);
  assert.equal((await client.list()).length, before);
  assert.deepEqual(inputsLeft(), [], 'rejected uploads are not kept');
});

test('modes - a repeated client request id keeps one upload', async () => {
  const spec: JobSpec = { ...base, steps: 2, mode: 'image_to_video', input: { data: readFileSync(media.png) } };
  const a = await client.submit(spec, 'modes-req-1');
  const b = await client.submit(spec, 'modes-req-1');
  assert.equal(a.id, b.id);
  assert.equal((await client.watch(a.id, () => undefined)).state, 'SUCCEEDED');
  assert.deepEqual(inputsLeft(), []);
});

test('modes - canceling a queued job deletes its upload', async () => {
  // fill both job slots, so the next job waits in the queue
  const busy = await Promise.all([1, 2].map(() => client.submit({ ...base, steps: 400 })));
  const queued = await client.submit({ ...base, mode: 'image_to_video', input: { data: readFileSync(media.png) } });
  assert.equal(inputsLeft().length, 1);
  assert.equal((await client.cancel(queued.id)).state, 'CANCELED');
  assert.deepEqual(inputsLeft(), []);
  for (const j of busy) assert.equal((await client.cancel(j.id)).state, 'CANCELED');
});
