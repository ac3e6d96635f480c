import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JobClient } from '../../cli/job-client.ts';
import { CLI_MAIN } from '../../cli/worker-process.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { call, denoiserClient, referenceModelDir, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * A worker whose model files are corrupt or missing starts anyway, reports
 * those models unavailable with the reason (Info, ListModels, `propeller
 * models`), refuses calls to them with a clear error, and serves the others.
 */

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
let raw: DenoiserServiceClient;
let client: JobClient;

/** A copy of the reference field-mixture under another name, for breaking. */
function copyAs(root: string, name: string): string {
  const dir = join(root, name);
  cpSync(join(root, 'field-mixture'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name: string };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, name }));
  return dir;
}

before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'propeller-broken-models-'));
  cpSync(await referenceModelDir(), root, { recursive: true });
  // Truncated mid-file (an interrupted copy), garbage bytes, and no file at all.
  const truncated = join(copyAs(root, 'broken-truncated'), 'model.onnx');
  writeFileSync(truncated, readFileSync(truncated).subarray(0, 1000));
  writeFileSync(join(copyAs(root, 'broken-garbage'), 'model.onnx'), Buffer.from('this is not an ONNX protobuf at all'.repeat(50)));
  rmSync(join(copyAs(root, 'broken-missing'), 'model.onnx'));
  worker = await startTestWorker({ modelDirs: [root] });
  coordinator = await startTestCoordinator({ workers: [worker.address] });
  raw = denoiserClient(worker.address);
  client = new JobClient(coordinator.address);
});

after(async () => {
  client.close();
  raw.close();
  await coordinator.close();
  await worker.drain();
});

const BROKEN: Record<string, RegExp> = {
  'broken-truncated': /cannot load model\.onnx/,
  'broken-garbage': /cannot load model\.onnx/,
  'broken-missing': /model file model\.onnx is missing/,
};

test('models - a worker with corrupt and missing model files starts and reports them unavailable with the reason', async () => {
  const info: InfoResponse__Output = await call(raw.Info.bind(raw), {});
  const byName = new Map(info.models.map((m) => [m.name, m]));
  for (const [name, reason] of Object.entries(BROKEN)) {
    const m = byName.get(name);
    assert.ok(m, `${name} is listed`);
    assert.equal(m.available, false, name);
    assert.match(m.reason, reason, name);
  }
  for (const name of ['field-mixture', 'field-mixture-flow', 'field-decoder', 'field-encoder']) assert.equal(byName.get(name)?.available, true, name);
  // The coordinator's model list carries the reason.
  const models = new Map((await client.models()).models.map((m) => [m.name, m]));
  for (const [name, reason] of Object.entries(BROKEN)) {
    assert.equal(models.get(name)?.available, false);
    assert.match(models.get(name)!.reason, reason);
  }
  assert.equal(models.get('field-mixture')?.available, true);
});

test('models - calls and jobs on a broken model are refused clearly; the others are served', async () => {
  const sample = encodeTensor(new Float32Array(4 * 16 * 32 * 32), [4, 16, 32, 32]);
  await assert.rejects(call(raw.Evaluate.bind(raw), { model: 'broken-garbage', items: [{ sample, timestep: 10 }] } as never), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.match(e.details, /"broken-garbage" is unavailable: cannot load model\.onnx/);
    return true;
  });
  const spec = { prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 3, output: { format: 'latent' } };
  await assert.rejects(client.submit({ ...spec, model: 'broken-missing' }), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.match(e.details, /spec\.model model "broken-missing" is unavailable: model file model\.onnx is missing/);
    return true;
  });
  const job = await client.submit({ ...spec, model: 'field-mixture' });
  assert.equal((await client.watch(job.id, () => undefined)).state, 'SUCCEEDED');
});

test('models - `propeller models` shows a broken model as unavailable with its reason', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_MAIN, 'models', '--address', coordinator.address]);
  const line = stdout.split('\n').find((l) => l.startsWith('broken-truncated '));
  assert.ok(line, stdout);
  assert.match(line, /\bno\b.*cannot load model\.onnx/);
  assert.match(stdout.split('\n').find((l) => l.startsWith('field-mixture '))!, /\byes\b/);
});
