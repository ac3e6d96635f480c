import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN } from '../../cli/worker-process.ts';
import { freePort, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/** `propeller models build`, and job commands waiting for a coordinator that is still starting. */

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('cli - models build prints one model directory per line, for reference models and stand-ins', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-models-build-'));
  const standins = await cli(['models', 'build', '--standins', 'tiny-clip-text,tiny-unet3d-s', '--dir', dir]);
  assert.equal(standins.code, 0, standins.stderr);
  assert.deepEqual(standins.stdout.trim().split('\n'), [join(dir, 'tiny-clip-text'), join(dir, 'tiny-unet3d-s')]);
  for (const d of standins.stdout.trim().split('\n')) assert.ok(existsSync(join(d, 'manifest.json')), d);

  const reference = await cli(['models', 'build', '--dir', join(dir, 'ref')]);
  assert.equal(reference.code, 0, reference.stderr);
  const dirs = reference.stdout.trim().split('\n');
  assert.ok(dirs.includes(join(dir, 'ref', 'field-mixture')), reference.stdout);
  for (const d of dirs) assert.ok(existsSync(join(d, 'model.onnx')), d);

  const unknown = await cli(['models', 'build', '--standins', 'tiny-nothing']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown stand-in model "tiny-nothing"; known: tiny-unet3d-s/);
  const stray = await cli(['models', 'build', 'tiny-dit']);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /unexpected argument "tiny-dit"/);
});

test('cli - a job command waits up to --connect-timeout for a coordinator that is still starting', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const nothing = await cli(['ls', '--address', address, '--connect-timeout', '1']);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, new RegExp(`cannot reach the coordinator at ${address} within 1 s`));

  // The command starts first; the coordinator binds its port about 2 s later.
  const waiting = cli(['workers', '--address', address, '--connect-timeout', '60']);
  await new Promise((r) => setTimeout(r, 2_000));
  const worker = await startTestWorker();
  const coordinator = await startTestCoordinator({ listen: address, workers: [worker.address] });
  try {
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(worker.address));
  } finally {
    await coordinator.close();
    await worker.drain();
  }
});
