import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import type { ChildServer } from '../../cli/worker-process.ts';
import { ProcessCluster, follow, smallJob, workerStatus } from '../helpers/cluster.ts';

/**
 * Workers that answer every Evaluate with an error, made with the worker's
 * `--fail-rate 1` testing aid (worker/fault-injection.ts).
 */
const cluster = new ProcessCluster();
let good: ChildServer;
let bad: ChildServer[];
before(async () => {
  [good, ...bad] = await Promise.all([cluster.worker('errors-good'), cluster.worker('errors-bad0', ['--fail-rate', '1']), cluster.worker('errors-bad1', ['--fail-rate', '1'])]);
});
after(() => cluster.stop());

test('fault - a worker that fails every call is marked dead and its batches are retried on another worker', { timeout: 180_000 }, async () => {
  const coordinator = await cluster.coordinator('errors-mixed', [good, bad[0]!]);
  const client = new JobClient(coordinator.address);
  try {
    const job = await client.submit(smallJob(13, 4));
    const done = await follow(client, job.id);
    assert.equal(done.state, 'SUCCEEDED', done.error);
    const log = cluster.log('errors-mixed');
    assert.ok(log.some((l) => l.includes('batch failed, will retry') && l.includes('injected fault')), 'no batch failed on the failing worker');
    assert.ok(log.some((l) => l.includes(`worker ${bad[0]!.address} serving -> dead`)), 'the failing worker was not marked dead');
    const [g, b] = [await workerStatus(client, good.address), await workerStatus(client, bad[0]!.address)];
    assert.equal(Number(b!.evaluations), 0);
    assert.equal(Number(g!.evaluations), Number(done.progress!.evaluations));
    assert.match(b!.lastError, /injected fault/);
  } finally {
    client.close();
  }
});

test('fault - when every worker fails, the job ends FAILED with a message naming the cause', { timeout: 180_000 }, async () => {
  const coordinator = await cluster.coordinator('errors-all-bad', bad, ['--probe-interval-ms', '500']);
  const client = new JobClient(coordinator.address);
  try {
    const started = Date.now();
    const job = await client.submit(smallJob(14, 4));
    const done = await follow(client, job.id);
    assert.equal(done.state, 'FAILED');
    assert.match(done.error, /injected fault on Evaluate call \d+ \(worker started with --fail-rate 1/);
    assert.match(done.error, /worker 127\.0\.0\.1:\d+/);
    // It fails after its retries rather than waiting for workers: a few seconds; the bound is over 5x that on a busy machine.
    assert.ok(Date.now() - started < 60_000, `failing took ${Date.now() - started} ms`);
  } finally {
    client.close();
  }
});
