import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { JobClient } from '../../cli/job-client.ts';
import { freePort, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * A coordinator started beside its static workers (compose, systemd, the
 * README's cluster by hand) waits for one of them to serve before it accepts
 * jobs, so the first Submit already knows the models.
 */

test('coordinator start - waits for a static worker that binds after it, then knows its models', { timeout: 120_000 }, async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const t0 = performance.now();
  const starting = startTestCoordinator({ workers: [address], workerStartWaitMs: 60_000 });
  // The worker binds its port about 1.5 s after the coordinator began.
  await new Promise((r) => setTimeout(r, 1_500));
  const worker = await startTestWorker({ listen: address });
  const coordinator = await starting;
  const client = new JobClient(coordinator.address);
  try {
    assert.ok(performance.now() - t0 >= 1_400, 'the coordinator did not accept jobs before the worker served');
    const { models } = await client.models();
    assert.ok(models.some((m) => m.name === 'field-mixture' && m.available), JSON.stringify(models.map((m) => m.name)));
    const job = await client.submit({ model: 'field-mixture', prompt: 'clouds', frames: 16, height: 128, width: 128, steps: 2, output: { format: 'latent' } });
    assert.equal((await client.watch(job.id, () => undefined)).state, 'SUCCEEDED');
  } finally {
    client.close();
    await coordinator.close();
    await worker.drain();
  }
});

test('coordinator start - with nothing listening at a static worker address, it starts once the wait is over', { timeout: 60_000 }, async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const t0 = performance.now();
  const coordinator = await startTestCoordinator({ workers: [address], workerStartWaitMs: 1_000 });
  const client = new JobClient(coordinator.address);
  try {
    const waited = performance.now() - t0;
    assert.ok(waited >= 900 && waited < 30_000, `waited ${waited} ms`);
    assert.deepEqual((await client.workers()).workers.map((w) => [w.address, w.state]), [[address, 'dead']]);
  } finally {
    client.close();
    await coordinator.close();
  }
});

test('coordinator start - a static worker that answers but is misconfigured (no TLS on its side) ends the wait at once', { timeout: 60_000 }, async () => {
  const worker = await startTestWorker();
  const t0 = performance.now();
  // The coordinator speaks TLS to a plaintext worker: every probe fails in the handshake, not by a refusal.
  const coordinator = await startTestCoordinator({ workers: [worker.address], workerTls: {}, workerStartWaitMs: 60_000 });
  const client = new JobClient(coordinator.address);
  try {
    const waited = performance.now() - t0;
    assert.ok(waited < 30_000, `waited ${waited} ms for a worker that cannot become serving`);
    assert.notEqual((await client.workers()).workers[0]?.state, 'serving');
  } finally {
    client.close();
    await coordinator.close();
    await worker.drain();
  }
});
