/**
 * Issue acceptance for the masked modes' seams: a video the model made
 * itself is extended in time and expanded in width; the boundary between the
 * given region and the generated one must not stand out (seam ratio <= 1.15:
 * the mean change across the boundary over the median change elsewhere).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { boundaryChanges, seamRatio } from '../../coordinator/layout/seams.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
let client: JobClient;
const dir = mkdtempSync(join(tmpdir(), 'modes-seams-'));
let source: Buffer;

async function run(spec: JobSpec, ext: string): Promise<Buffer> {
  const job = await client.submit(spec);
  const last = await client.watch(job.id, () => undefined);
  assert.equal(last.state, 'SUCCEEDED', last.error);
  const path = join(dir, `${job.id}.${ext}`);
  await client.download(job.id, path);
  return readFileSync(path);
}

before(async () => {
  worker = await startTestWorker();
  coordinator = await startTestCoordinator({ workers: [worker.address] });
  client = new JobClient(coordinator.address);
  // The source: 16 frames of ocean made by the model itself, as a near-lossless mp4.
  source = await run({ model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 20, seed: 2, output: { format: 'mp4', crf: 1 } }, 'mp4');
});

after(async () => {
  client.close();
  await coordinator.close();
  await worker.drain();
});

test('modes - extend continues a video in time without a seam (ratio <= 1.15)', { timeout: 120_000 }, async () => {
  const out = readLatent(await run({ model: 'field-mixture', prompt: 'ocean', frames: 32, height: 128, width: 128, steps: 20, seed: 3, mode: 'extend', input: { data: source }, output: { format: 'latent' } }, 'latent'));
  const dims = { channels: 4, frames: 32, height: 32, width: 32 };
  const ratio = seamRatio(boundaryChanges(out.data, dims, 'frames'), [16]);
  process.stderr.write(`extend: temporal seam ratio at the continuation ${ratio.toFixed(3)}\n`);
  assert.ok(ratio <= 1.15, `extend seam ratio ${ratio}`);
});

test('modes - expand fills a wider canvas without a seam at the original region (ratio <= 1.15)', { timeout: 120_000 }, async () => {
  const out = readLatent(await run({ model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 256, steps: 20, seed: 4, mode: 'expand', input: { data: source }, output: { format: 'latent' } }, 'latent'));
  const dims = { channels: 4, frames: 16, height: 32, width: 64 };
  // 128x128 centred in 256x128: latent columns 16..48
  const ratio = seamRatio(boundaryChanges(out.data, dims, 'width'), [16, 48]);
  process.stderr.write(`expand: spatial seam ratio at the original region ${ratio.toFixed(3)}\n`);
  assert.ok(ratio <= 1.15, `expand seam ratio ${ratio}`);
});
