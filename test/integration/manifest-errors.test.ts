import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JobClient } from '../../cli/job-client.ts';
import { CLI_MAIN } from '../../cli/worker-process.ts';
import { ensureStandinModels } from '../../models/registry.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { referenceModelDir, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * Wrong manifests beside a real graph (tiny-unet3d-s): the worker starts,
 * serves its other models, and reports each broken one unavailable with a
 * reason naming the manifest field; the coordinator's ListModels, and so
 * `propeller models`, shows that reason.
 */
const BROKEN: Record<string, { edit: (m: Record<string, any>) => void; reason: RegExp }> = {
  'missing-input': {
    edit: (m) => (m['inputs'].timestep = 't'),
    reason: /manifest\.json: inputs\.timestep: graph has no input "t" \(has sample, timestep, encoder_hidden_states\)/,
  },
  'wrong-rank': {
    edit: (m) => (m['conditioning'][0].shape = [77 * 128]),
    reason: /manifest\.json: conditioning\[0\]\.input: graph input "encoder_hidden_states" has rank 3 \(\[B, 77, 128\]\); the manifest describes rank 2 \[B, 9856\]/,
  },
  'unknown-prediction': {
    edit: (m) => (m['predictionType'] = 'x0'),
    reason: /manifest\.json: predictionType: /,
  },
  'wrong-frames': {
    edit: (m) => (m['nativeFrames'] = 16),
    reason: /manifest\.json: nativeFrames: 16 does not match axis 2 of graph input "sample", \[B, 4, 8, 16, 16\]/,
  },
  'unfed-input': {
    edit: (m) => delete m['conditioning'],
    reason: /manifest\.json: conditioning: graph input "encoder_hidden_states" is not named by the manifest/,
  },
  'wrong-dtype': {
    edit: (m) => (m['dtype'] = 'float16'),
    reason: /manifest\.json: dtype: the manifest says float16 but graph input "sample" is float32/,
  },
};

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;

before(async () => {
  const [source] = await ensureStandinModels(['tiny-unet3d-s']);
  const root = mkdtempSync(join(tmpdir(), 'propeller-manifests-'));
  const manifest = JSON.parse(readFileSync(join(source!, 'manifest.json'), 'utf8'));
  for (const [name, { edit }] of Object.entries(BROKEN)) {
    const dir = join(root, name);
    mkdirSync(dir);
    copyFileSync(join(source!, 'model.onnx'), join(dir, 'model.onnx'));
    const m = structuredClone(manifest);
    m.name = name;
    edit(m);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  }
  worker = await startTestWorker({ modelDirs: [await referenceModelDir(), root] });
  coordinator = await startTestCoordinator({ workers: [worker.address] });
});

after(async () => {
  await coordinator?.close();
  await worker?.drain();
});

test('manifest errors - a worker reports each wrong manifest unavailable with the field named, and serves the rest', () => {
  const info = worker.service.info();
  const byName = new Map((info.models ?? []).map((m) => [m.name, m]));
  assert.ok(byName.get('field-mixture')?.available);
  for (const [name, { reason }] of Object.entries(BROKEN)) {
    // A manifest that does not parse is known by its directory's name.
    const m = byName.get(name);
    assert.ok(m, `no entry for ${name}`);
    assert.equal(m.available, false, name);
    assert.match(m.reason ?? '', reason);
  }
});

test('manifest errors - ListModels and `propeller models` show the reasons', async () => {
  const client = new JobClient(coordinator.address);
  let listed: Awaited<ReturnType<JobClient['models']>>['models'] = [];
  try {
    for (let i = 0; i < 50 && !listed.some((m) => m.name === 'wrong-rank'); i++) {
      listed = (await client.models()).models;
      if (!listed.some((m) => m.name === 'wrong-rank')) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
  for (const [name, { reason }] of Object.entries(BROKEN)) {
    const m = listed.find((x) => x.name === name);
    assert.ok(m, `ListModels has no ${name}`);
    assert.equal(m.available, false);
    assert.match(m.reason, reason);
  }
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_MAIN, 'models', '--address', coordinator.address], {
    env: { ...process.env, PROPELLER_LOG_LEVEL: 'warn' },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('missing-input'));
  assert.match(line ?? '', /no .*manifest\.json: inputs\.timestep: graph has no input "t"/);
});
