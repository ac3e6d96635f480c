import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { spawnCliServer } from '../../cli/worker-process.ts';
import { ExecutionProviderError, executionProviders } from '../../worker/execution-provider.ts';
import { referenceModelDir, startTestWorker } from '../helpers/servers.ts';

/**
 * Execution providers from the worker's --device. This repository installs
 * onnxruntime-node without its CUDA binaries (.npmrc), so here a CUDA
 * worker must refuse to start and say what to install.
 */
const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
const cudaInstalled = existsSync(join(ortDir, '..', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));

test('provider - device strings map to ORT execution providers (CUDA with its device id, CPU for the ops CUDA lacks)', () => {
  assert.deepEqual(executionProviders('cpu'), ['cpu']);
  assert.deepEqual(executionProviders('cuda'), [{ name: 'cuda', deviceId: 0 }, 'cpu']);
  assert.deepEqual(executionProviders('cuda:3'), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
  assert.throws(() => executionProviders('rocm'), ExecutionProviderError);
});

test('provider - a worker configured for CUDA without the CUDA provider refuses to start, naming it and the install step', { timeout: 120_000 }, async () => {
  assert.equal(cudaInstalled, false, 'this test expects the CPU-only install of this repository');
  await assert.rejects(startTestWorker({ device: 'cuda:1' }), (err: Error) => {
    assert.ok(err instanceof ExecutionProviderError);
    assert.match(err.message, /execution provider "cuda" \(device cuda:1\) is not available: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm install/);
    return true;
  });
  // The CLI worker process exits non-zero with the message on stderr.
  const stderr: string[] = [];
  await assert.rejects(
    spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', await referenceModelDir(), '--device', 'cuda:0'], { env: { PROPELLER_LOG_LEVEL: 'warn' }, stderr: (l) => stderr.push(l) }),
    /exited during start \(code 1/,
  );
  assert.match(stderr.join('\n'), /execution provider "cuda" \(device cuda:0\) is not available/);
});
