/**
 * Long-video jobs end to end on a real worker and coordinator: the seam
 * metrics in the job's final event, isolated windows against overlapped
 * ones, and FreeNoise initial noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'propeller-seams-'));
const cluster = workerAndCoordinator();

/** 48 latent frames x 32 x 64: 5 chunks x 1 x 3 tiles overlapped, 3 x 1 x 2 isolated. */
const base: JobSpec = { model: 'field-mixture', prompt: 'clouds', frames: 48, height: 128, width: 256, steps: 10, seed: 5, output: { format: 'latent' } };

async function runJob(spec: JobSpec): Promise<{ job: Job__Output; latent: Float32Array }> {
  const submitted = await cluster.client.submit(spec);
  const job = await cluster.client.watch(submitted.id, () => undefined);
  assert.equal(job.state, 'SUCCEEDED', job.error);
  const path = join(dir, `${job.id}.latent`);
  await cluster.client.download(job.id, path);
  return { job, latent: readLatent(readFileSync(path)).data };
}

test('seams - the final event reports seams; isolated windows show them, overlapped ones do not', async () => {
  const overlapped = await runJob(base);
  const isolated = await runJob({ ...base, layout: { chunkOverlap: 0, tileOverlap: 0 } });
  assert.equal(overlapped.job.metrics['windows'], 15);
  assert.equal(isolated.job.metrics['windows'], 6);
  const o = overlapped.job.metrics;
  const i = isolated.job.metrics;
  assert.ok(o['seam_temporal']! <= 1.15 && o['seam_spatial']! <= 1.15, `overlapped ${JSON.stringify(o)}`);
  assert.ok(i['seam_temporal']! > 1.5 && i['seam_spatial']! > 1.5, `isolated ${JSON.stringify(i)}`);
});

test('seams - freenoise changes the sample, deterministically per seed', async () => {
  const free = { ...base, layout: { noiseInit: 'freenoise' } };
  const a = await runJob(free);
  const b = await runJob(free);
  const indep = await runJob(base);
  assert.equal(a.job.spec?.layout?.noiseInit, 'freenoise');
  assert.deepEqual(a.latent, b.latent);
  assert.notDeepEqual(a.latent, indep.latent);
  assert.ok(a.job.metrics['seam_temporal']! <= 1.15, JSON.stringify(a.job.metrics));
});
