import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import { extractWindow, planWindows } from '../../coordinator/layout/mod.ts';
import { FieldMixtureReference } from '../../models/field-mixture/reference.ts';
import { alphasCumprod, DEFAULT_TRAIN_SCHEDULE } from '../../common/noise-schedule.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import { referenceModelDir, startTestCoordinator } from '../helpers/servers.ts';

let workers: ChildServer[] = [];
let coordinator: CoordinatorHandle;
let client: JobClient;
const dir = mkdtempSync(join(tmpdir(), 'propeller-long-'));

before(async () => {
  const models = await referenceModelDir();
  workers = await Promise.all([0, 1].map(() => spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', models], { env: { PROPELLER_LOG_LEVEL: 'warn' } })));
  coordinator = await startTestCoordinator({ workers: workers.map((w) => w.address), dataDir: dir });
  client = new JobClient(coordinator.address);
});

after(async () => {
  client.close();
  await coordinator.close();
  await Promise.all(workers.map((w) => w.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function runLatent(spec: Parameters<JobClient['submit']>[0]): Promise<{ shape: number[]; data: Float32Array }> {
  const job = await client.submit({ ...spec, output: { format: 'latent' } });
  const last = await client.watch(job.id, () => undefined);
  assert.equal(last.state, 'SUCCEEDED', last.error);
  const path = join(dir, `${job.id}.latent`);
  await client.download(job.id, path);
  return readLatent(readFileSync(path));
}

test('long video - a prompt schedule clouds -> fire -> ocean: windows away from transitions belong to their scheduled component', { timeout: 300_000 }, async () => {
  const frames = 96;
  const schedule = [
    { fromFrame: 0, prompt: 'clouds' },
    { fromFrame: 32, prompt: 'fire' },
    { fromFrame: 64, prompt: 'ocean' },
  ];
  const latent = await runLatent({ model: 'field-mixture', promptSchedule: schedule, frames, height: 128, width: 128, steps: 20, seed: 4 });
  const dims = { channels: 4, frames, height: 32, width: 32 };
  // Classify every native window of the output, stride 4, by the model's own posterior over components.
  const ref = new FieldMixtureReference();
  const abar0 = alphasCumprod(DEFAULT_TRAIN_SCHEDULE)[0]!;
  const classes = ['clouds', 'fire', 'ocean', 'aurora', 'lava', 'forest'];
  let inside = 0;
  let right = 0;
  for (let f0 = 0; f0 + 16 <= frames; f0 += 4) {
    const segment = schedule.filter((s) => s.fromFrame <= f0).pop()!;
    const next = schedule.find((s) => s.fromFrame > f0);
    // Straddles a transition, or shares frames with a window that does (the default chunk overlap, 8
    // frames, before it): those frames blend both prompts' predictions.
    if (next && next.fromFrame < f0 + 16 + 8) continue;
    inside++;
    const w = extractWindow(latent.data, dims, { index: 0, f0, y0: 0, x0: 0, frames: 16, height: 32, width: 32 });
    const ll = ref.componentLogLikelihoods(w, Math.sqrt(abar0), Math.sqrt(1 - abar0));
    const best = Array.from(ll).indexOf(Math.max(...ll));
    if (classes[best] === segment.prompt) right++;
  }
  assert.ok(inside >= 10);
  assert.ok(right / inside >= 0.9, `${right}/${inside} windows classified as scheduled`);
});

test('long video - a 10,000-frame 128x128 latent job completes with coordinator RSS under 2 GiB', { timeout: 900_000 }, async () => {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const started = performance.now();
  const job = await client.submit({ model: 'field-mixture', prompt: 'ocean', frames: 10_000, height: 128, width: 128, steps: 10, seed: 8, output: { format: 'latent' } });
  const done = await client.watch(job.id, () => undefined);
  clearInterval(timer);
  assert.equal(done.state, 'SUCCEEDED', done.error);
  const path = join(dir, 'long.latent');
  await client.download(job.id, path);
  const latent = readLatent(readFileSync(path));
  assert.deepEqual(latent.shape, [4, 10_000, 32, 32]);
  assert.ok(latent.data.every(Number.isFinite));
  // Every chunk was sampled: no zero tail.
  const dims = { channels: 4, frames: 10_000, height: 32, width: 32 };
  const windows = planWindows(dims, { frames: 16, height: 32, width: 32 }, { frames: 8, height: 16, width: 16 });
  const last = extractWindow(latent.data, dims, windows[windows.length - 1]!);
  assert.ok(last.some((v) => Math.abs(v) > 0.1));
  const peakMiB = peak / 2 ** 20;
  process.stderr.write(`10,000 frames: ${((performance.now() - started) / 1000).toFixed(0)} s, peak coordinator process RSS ${peakMiB.toFixed(0)} MiB\n`);
  assert.ok(peakMiB < 2048, `peak RSS ${peakMiB.toFixed(0)} MiB`);
});
