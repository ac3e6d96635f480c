import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_MAIN, spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import { DdimScheduler } from '../../coordinator/sampling/mod.ts';
import { picardErrorScales } from '../../coordinator/sampling/picard.ts';
import { referenceModelDir } from '../helpers/servers.ts';

const run = promisify(execFile);
const children: ChildServer[] = [];
after(async () => {
  await Promise.all(children.map((c) => c.stop(10_000)));
});

async function propeller(args: string[], address: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_MAIN, ...args, '--address', address], {
    env: { ...process.env, PROPELLER_LOG_LEVEL: 'warn' },
    maxBuffer: 1 << 24,
  });
  return stdout;
}

test('e2e - propeller submit --sampler picard --window 8 finishes in fewer rounds than steps, within the tolerance bound of sequential', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-picard-'));
  await referenceModelDir();
  const cluster = await spawnCliServer(['up', '--workers', '2', '--listen', '127.0.0.1:0', '--data-dir', dir], { env: { PROPELLER_LOG_LEVEL: 'warn' }, startTimeoutMs: 120_000 });
  children.push(cluster);
  const steps = 40;
  const tolerance = 0.1;
  const common = ['--prompt', 'ocean', '--frames', '24', '--height', '128', '--width', '128', '--steps', String(steps), '--seed', '21', '--format', 'latent', '--wait'];
  await propeller(['submit', ...common, '--sampler', 'picard', '--window', '8', '--tolerance', String(tolerance), '--out', join(dir, 'picard.latent')], cluster.address);
  await propeller(['submit', ...common, '--out', join(dir, 'sequential.latent')], cluster.address);

  // `ls` lists newest first: the Picard job is the older of the two.
  const ids = (await propeller(['ls'], cluster.address)).trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]!);
  assert.equal(ids.length, 2);
  const picardJob = JSON.parse(await propeller(['get', ids[1]!], cluster.address));
  assert.equal(picardJob.spec.sampler.kind, 'picard');
  const rounds = picardJob.metrics.picard_rounds;
  assert.ok(rounds > 0 && rounds < steps, `picard took ${rounds} rounds for ${steps} steps`);
  assert.equal(picardJob.progress.step, steps);

  const a = readLatent(readFileSync(join(dir, 'picard.latent')));
  const b = readLatent(readFileSync(join(dir, 'sequential.latent')));
  assert.deepEqual(a.shape, b.shape);
  let sq = 0;
  for (let i = 0; i < a.data.length; i++) sq += (a.data[i]! - b.data[i]!) ** 2;
  const rms = Math.sqrt(sq / a.data.length);
  // Each accepted point is within tol * sqrt(scale_j) (RMS) of its Picard
  // update; summed over the steps this bounds the drift from sequential.
  const scales = picardErrorScales(new DdimScheduler({}, steps));
  let bound = 0;
  for (let j = 1; j < steps; j++) bound += tolerance * Math.sqrt(scales[j]!);
  assert.ok(rms > 0, 'picard output is identical to sequential: the test would not notice a broken sampler choice');
  assert.ok(rms <= bound, `RMS difference ${rms} exceeds the tolerance bound ${bound}`);
  process.stderr.write(`picard: ${rounds} rounds for ${steps} steps; RMS difference from sequential ${rms.toExponential(2)} (bound ${bound.toExponential(2)})\n`);
});
