import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';

const cluster = workerAndCoordinator();

const small: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 2, output: { format: 'latent' } };

async function latentOf(seed: number | string): Promise<{ data: Float32Array; seed: unknown }> {
  const job = await cluster.client.submit({ ...small, seed });
  const last = await cluster.client.watch(job.id, () => undefined);
  assert.equal(last.state, 'SUCCEEDED', last.error);
  const path = join(mkdtempSync(join(tmpdir(), 'seed-')), 'out.latent');
  await cluster.client.download(job.id, path);
  return { data: readLatent(readFileSync(path)).data, seed: (await cluster.client.get(job.id)).spec!.seed };
}

test('seeds - every uint64 seed is accepted, comes back exact, and draws its own latent', async () => {
  const seeds: (number | string)[] = [0, 1, 2 ** 32, 2 ** 32 + 1, '9007199254740993', '18446744073709551615'];
  const latents: Float32Array[] = [];
  for (const seed of seeds) {
    const { data, seed: echoed } = await latentOf(seed);
    // Below 2^53 a seed is a number; above, its exact decimal string (a number would round).
    assert.equal(echoed, seed, `Get echoes seed ${seed}`);
    latents.push(data);
  }
  for (let i = 0; i < seeds.length; i++) {
    for (let j = i + 1; j < seeds.length; j++) assert.notDeepEqual(latents[i], latents[j], `seeds ${seeds[i]} and ${seeds[j]} draw different latents`);
  }
  // A seed repeats, whether sent as a number or a string.
  assert.deepEqual((await latentOf('4294967296')).data, latents[2]);
});
