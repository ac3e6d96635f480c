import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';
import { expectCode } from '../helpers/grpc-asserts.ts';

const cluster = workerAndCoordinator({ limits: { maxQueued: 3 } as never });

const small: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 4, seed: 3, output: { format: 'latent' } };

test('api - bad specs get INVALID_ARGUMENT naming the field and create no job', async () => {
  const before = (await cluster.client.list()).length;
  await expectCode(cluster.client.submit({ ...small, frames: 0 }), grpc.status.INVALID_ARGUMENT, /spec\.frames/);
  await expectCode(cluster.client.submit({ ...small, frames: 100_000 }), grpc.status.INVALID_ARGUMENT, /spec\.frames must be an integer in \[16, 16384\]/);
  await expectCode(cluster.client.submit({ ...small, model: 'nope' }), grpc.status.INVALID_ARGUMENT, /spec\.model unknown model "nope"; known models: field-mixture/);
  await expectCode(cluster.client.submit({ ...small, prompt: 'kittens' }), grpc.status.INVALID_ARGUMENT, /spec\.prompt has unknown word "kittens"; known prompts: clouds, fire, ocean, aurora, lava, forest/);
  await expectCode(cluster.client.submit({ ...small, width: 130 }), grpc.status.INVALID_ARGUMENT, /spec\.width must be a multiple of 4/);
  assert.equal((await cluster.client.list()).length, before);
});

test('api - unknown job ids are NOT_FOUND', async () => {
  await expectCode(cluster.client.get('job-does-not-exist'), grpc.status.NOT_FOUND, /job "job-does-not-exist" not found/);
  await expectCode(cluster.client.cancel('job-nope'), grpc.status.NOT_FOUND, /not found/);
  await expectCode(cluster.client.watch('job-nope', () => undefined), grpc.status.NOT_FOUND, /not found/);
  await expectCode(cluster.client.download('job-nope', join(mkdtempSync(join(tmpdir(), 'dl-')), 'x')), grpc.status.NOT_FOUND, /not found/);
  await expectCode(cluster.client.get('../../etc/passwd'), grpc.status.NOT_FOUND, /not found/);
});

test('api - a latent job runs to SUCCEEDED with progress events and downloads intact', async () => {
  const job = await cluster.client.submit(small);
  assert.equal(job.state, 'QUEUED');
  const states: string[] = [];
  let maxStep = 0;
  const last = await cluster.client.watch(job.id, (e) => {
    states.push(e.job!.state);
    maxStep = Math.max(maxStep, e.job!.progress!.step);
  });
  assert.equal(last.state, 'SUCCEEDED', last.error);
  assert.ok(states.includes('RUNNING'));
  assert.equal(last.progress!.step, 4);
  assert.equal(last.progress!.evaluations, 4); // one window per step
  const path = join(mkdtempSync(join(tmpdir(), 'dl-')), 'out.latent');
  const { bytes } = await cluster.client.download(job.id, path);
  assert.equal(bytes, Number(last.outputBytes));
  const latent = readLatent(readFileSync(path));
  assert.deepEqual(latent.shape, [4, 16, 32, 32]);
  assert.ok(latent.data.every(Number.isFinite));
});

test('api - same client request id returns the same job', async () => {
  const a = await cluster.client.submit(small, 'req-42');
  const b = await cluster.client.submit(small, 'req-42');
  assert.equal(a.id, b.id);
  await cluster.client.watch(a.id, () => undefined);
});

test('api - same seed gives the same latent; cancel stops a running job', async () => {
  const run = async () => {
    const j = await cluster.client.submit({ ...small, seed: 11 });
    await cluster.client.watch(j.id, () => undefined);
    const p = join(mkdtempSync(join(tmpdir(), 'dl-')), 'o.latent');
    await cluster.client.download(j.id, p);
    return readFileSync(p);
  };
  assert.ok((await run()).equals(await run()), 'two runs with one seed differ');

  const long = await cluster.client.submit({ ...small, steps: 400 });
  await new Promise<void>((resolve) => {
    void cluster.client.watch(long.id, (e) => {
      if (e.job!.progress!.step >= 1) resolve();
    });
  });
  const canceled = await cluster.client.cancel(long.id);
  assert.equal(canceled.state, 'CANCELED');
  assert.ok(canceled.progress!.step < 400);
  await expectCode(cluster.client.download(long.id, join(mkdtempSync(join(tmpdir(), 'dl-')), 'x')), grpc.status.FAILED_PRECONDITION, /CANCELED/);
});

test('api - every scheduler runs a job; the flow model takes flow_euler only', async () => {
  for (const [model, scheduler] of [
    ['field-mixture', 'ddpm'],
    ['field-mixture', 'euler'],
    ['field-mixture-flow', 'flow_euler'],
    ['field-mixture-flow', ''],
  ] as const) {
    const job = await cluster.client.submit({ ...small, model, scheduler, steps: 3 });
    const last = await cluster.client.watch(job.id, () => undefined);
    assert.equal(last.state, 'SUCCEEDED', `${model}/${scheduler}: ${last.error}`);
    assert.equal(last.spec!.scheduler, scheduler || 'flow_euler');
  }
  await expectCode(cluster.client.submit({ ...small, model: 'field-mixture-flow', scheduler: 'ddim' }), grpc.status.INVALID_ARGUMENT, /spec\.scheduler must be one of flow_euler/);
  await expectCode(cluster.client.submit({ ...small, scheduler: 'heun' }), grpc.status.INVALID_ARGUMENT, /spec\.scheduler must be one of ddim, ddpm, euler/);
  await expectCode(cluster.client.submit({ ...small, scheduler: 'euler', eta: 0.5 }), grpc.status.INVALID_ARGUMENT, /spec\.eta applies to ddim only/);
  await expectCode(cluster.client.submit({ ...small, sampler: { kind: 'picard', window: 4, tolerance: 0.1, policy: 'magic' } }), grpc.status.INVALID_ARGUMENT, /spec\.sampler\.policy must be one of paradigms, adaptive, forecast/);
});

test('api - workers and models are listed', async () => {
  const { workers } = await cluster.client.workers();
  assert.equal(workers.length, 1);
  assert.equal(workers[0]!.state, 'serving');
  assert.ok(workers[0]!.evaluations > 0);
  const { models } = await cluster.client.models();
  const fm = models.find((m) => m.name === 'field-mixture')!;
  assert.ok(fm.available);
  assert.deepEqual(fm.prompts, ['clouds', 'fire', 'ocean', 'aurora', 'lava', 'forest']);
  assert.equal(fm.nativeWidth, 128);
});
