import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import { SPEC_DEFAULTS } from '../../coordinator/jobs/spec.ts';
import { DdimScheduler } from '../../coordinator/sampling/mod.ts';
import { picardErrorScales } from '../../coordinator/sampling/picard.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { downloadBytes, follow, waitFor } from '../helpers/cluster.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * The `auto` sampler through a real coordinator over two real workers
 * (two slots): alone, a single-window job runs Picard at window 2; beside a
 * sequential job that holds one slot, window 1 every round, which is
 * sequential sampling bit for bit.
 */
const f = {} as { workers: WorkerHandle[]; coordinator: CoordinatorHandle; client: JobClient };
const dir = mkdtempSync(join(tmpdir(), 'propeller-auto-'));

before(async () => {
  f.workers = [await startTestWorker(), await startTestWorker()];
  // The coordinator's default sampler is auto: jobs that name none get it.
  // Every round's progress event (no throttling), so the windows seen are every round's.
  f.coordinator = await startTestCoordinator({ workers: f.workers.map((w) => w.address), maxConcurrentJobs: 3, defaultSampler: 'auto', progressIntervalMs: 0 });
  f.client = new JobClient(f.coordinator.address);
});
after(async () => {
  f.client?.close();
  await f.coordinator?.close();
  await Promise.all(f.workers?.map((w) => w.drain()) ?? []);
});

/** One native window (16 frames, 128x128): one evaluation per Picard point. */
function job(seed: number, steps: number, sampler?: string): JobSpec {
  return { model: 'field-mixture', prompt: 'clouds', frames: 16, height: 128, width: 128, fps: 8, steps, seed, output: { format: 'latent' }, ...(sampler ? { sampler: { kind: sampler } } : {}) };
}

/** Submits, follows to the end, returns the windows its progress events showed and the latent. */
async function run(spec: JobSpec): Promise<{ windows: number[]; latent: Float32Array; metrics: Record<string, number>; kind: string }> {
  const submitted = await f.client.submit(spec);
  const windows: number[] = [];
  const end = await follow(f.client, submitted.id, (j) => {
    const w = j.progress?.picardWindow ?? 0;
    if (w && windows.at(-1) !== w) windows.push(w);
  });
  assert.equal(end.state, 'SUCCEEDED', end.error);
  const latent = readLatent(await downloadBytes(f.client, end.id, dir)).data;
  return { windows, latent, metrics: end.metrics as Record<string, number>, kind: end.spec!.sampler!.kind };
}

function rms(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(e / a.length);
}

test('auto sampler - alone on two workers a job runs Picard at window 2, within tolerance of sequential', { timeout: 240_000 }, async () => {
  const auto = await run(job(41, 24));
  assert.equal(auto.kind, 'auto', 'a job naming no sampler gets the coordinator default');
  // Window 2 every round (the last one may have a single step left).
  assert.equal(auto.windows[0], 2, `windows ${auto.windows.join(',')}`);
  assert.ok(auto.windows.every((w) => w <= 2));
  assert.ok(auto.metrics.picard_points! > auto.metrics.picard_rounds!, `points ${auto.metrics.picard_points}, rounds ${auto.metrics.picard_rounds}`);
  assert.ok(auto.metrics.picard_rounds! < 24, `rounds ${auto.metrics.picard_rounds}`);
  const sequential = await run(job(41, 24, 'sequential'));
  assert.equal(sequential.kind, 'sequential');
  assert.deepEqual(sequential.windows, []);
  // Each accepted point is within tol * sqrt(scale_j) (RMS) of its update:
  // summed over the steps, a bound on the drift from sequential (as picard-cli.test.ts).
  const scales = picardErrorScales(new DdimScheduler({}, 24));
  let bound = 0;
  for (let j = 1; j < 24; j++) bound += SPEC_DEFAULTS.autoTolerance * Math.sqrt(scales[j]!);
  const d = rms(auto.latent, sequential.latent);
  assert.ok(d > 0 && d <= bound, `RMS difference from sequential ${d}, bound ${bound}`);
});

test('auto sampler - beside a sequential job holding one of the two slots, window 1 every round: sequential bit for bit', { timeout: 240_000 }, async () => {
  // A long sequential job takes one slot for the whole test.
  const busy = await f.client.submit(job(7, 1000, 'sequential'));
  await waitFor('the sequential job to run', 60_000, async () => ((await f.client.get(busy.id)).progress?.step ?? 0) > 0 || undefined);
  const auto = await run(job(42, 16, 'auto'));
  assert.equal((await f.client.get(busy.id)).state, 'RUNNING', 'the busy job must outlast the auto job for the test to mean anything');
  await f.client.cancel(busy.id);
  assert.deepEqual(auto.windows, [1]);
  assert.equal(auto.metrics.picard_rounds, 16);
  assert.equal(auto.metrics.evaluations, 16, 'a saturated cluster spends no extra evaluations');
  const sequential = await run(job(42, 16, 'sequential'));
  assert.deepEqual(Buffer.from(auto.latent.buffer), Buffer.from(sequential.latent.buffer), 'window 1 is sequential sampling, bit for bit');
});
