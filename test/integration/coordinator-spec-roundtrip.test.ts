import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { ensureStandinModels } from '../../models/registry.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

let worker: WorkerHandle;
/** Serves a stand-in with a text encoder: negative prompts need one. */
let textWorker: WorkerHandle;
let coordinator: CoordinatorHandle;
let client: JobClient;

before(async () => {
  worker = await startTestWorker();
  textWorker = await startTestWorker({ modelDirs: await ensureStandinModels(['tiny-unet3d-s', 'tiny-clip-text']) });
  coordinator = await startTestCoordinator({ workers: [worker.address, textWorker.address] });
  client = new JobClient(coordinator.address);
});

after(async () => {
  client.close();
  await coordinator.close();
  await worker.drain();
  await textWorker.drain();
});

async function latentOf(id: string): Promise<Float32Array> {
  const last = await client.watch(id, () => undefined);
  assert.equal(last.state, 'SUCCEEDED', last.error);
  const path = join(mkdtempSync(join(tmpdir(), 'roundtrip-')), 'out.latent');
  await client.download(id, path);
  return readLatent(readFileSync(path)).data;
}

const base: JobSpec = { model: 'field-mixture', frames: 16, height: 128, width: 128, steps: 2, seed: 5, output: { format: 'latent' } };

const cases: [string, JobSpec][] = [
  ['a prompt', { ...base, prompt: 'ocean' }],
  ['a prompt schedule', { ...base, promptSchedule: [{ fromFrame: 0, prompt: 'clouds' }, { fromFrame: 8, prompt: 'fire' }] }],
  ['a negative prompt', { ...base, model: 'tiny-unet3d-s', height: 64, width: 64, prompt: 'a red fox in snow', negativePrompt: 'blurry' }],
  ['a large seed and Picard', { ...base, prompt: 'lava', seed: '18446744073709551615', sampler: { kind: 'picard', window: 2 } }],
];

for (const [name, spec] of cases) {
  test(`spec round trip - Submit takes back what Get returns for ${name}, and draws the same latent`, async () => {
    const first = await client.submit(spec);
    const echoed = (await client.get(first.id)).spec!;
    const again = await client.submit(echoed);
    assert.deepEqual((await client.get(again.id)).spec, echoed, 'the resubmitted job has the same spec');
    assert.deepEqual(await latentOf(again.id), await latentOf(first.id));
  });
}

test('spec round trip - Get returns the prompt form the client used, not both', async () => {
  const single = (await client.get((await client.submit(cases[0]![1]).then((j) => j.id)))).spec!;
  assert.equal(single.prompt, 'ocean');
  assert.deepEqual(single.promptSchedule, []);
  const scheduled = (await client.get((await client.submit(cases[1]![1])).id)).spec!;
  assert.equal(scheduled.prompt, '');
  assert.deepEqual(scheduled.promptSchedule, cases[1]![1].promptSchedule);
});
