import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * The broker gone and back: a coordinator with jobs on JetStream whose NATS
 * server stops for a while. Calls that need it answer UNAVAILABLE (which
 * clients retry), not INTERNAL; once it is back, the coordinator takes and
 * runs jobs again without a restart.
 */
let nats: NatsServer;
let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
let client: JobClient;
const dir = mkdtempSync(join(tmpdir(), 'propeller-outage-'));

before(async () => {
  nats = await startNatsServer();
  worker = await startTestWorker();
  coordinator = await startTestCoordinator({ workers: [worker.address], jetstream: { servers: nats.url, prefix: 'outage', ackWaitMs: 3_000, checkpointIntervalMs: 0 } });
  client = new JobClient(coordinator.address, 60_000);
});
after(async () => {
  client?.close();
  await coordinator?.close();
  await worker?.drain();
  await nats?.stop();
});

const small = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 2, output: { format: 'latent' as const } };

test('broker outage - every JobService method that needs NATS answers UNAVAILABLE while it is down; jobs run again once it is back', { timeout: 180_000 }, async () => {
  const before = await client.submit(small);
  assert.equal((await client.watch(before.id, () => undefined)).state, 'SUCCEEDED');

  await nats.halt();
  // Every JobService method that needs the broker says so with a retryable code.
  const calls: [string, () => Promise<unknown>][] = [
    ['Submit', () => client.submit(small)],
    ['Get', () => client.get(before.id)],
    ['List', () => client.list()],
    ['Cancel', () => client.cancel(before.id)],
    ['Watch', () => client.watch(before.id, () => undefined)],
    ['Download', () => client.download(before.id, join(dir, 'out.latent'))],
  ];
  for (const [name, call] of calls) {
    await assert.rejects(call(), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE, `${name}: ${grpc.status[e.code]}: ${e.details}`);
      return true;
    });
  }
  // What needs no broker still answers.
  assert.equal((await client.workers()).workers[0]?.state, 'serving');
  assert.ok((await client.models()).models.some((m) => m.name === 'field-mixture'));
  // Down for longer than the queue's pull expiry and the client's request timeout.
  await new Promise((r) => setTimeout(r, 8_000));
  await nats.resume();

  // The coordinator reconnects by itself and its take loop is still alive
  // (within seconds; the bound is over 5x that on a busy machine).
  let after: Awaited<ReturnType<JobClient['submit']>> | undefined;
  for (let i = 0; i < 120 && !after; i++) {
    after = await client.submit(small).catch(async (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE, `while reconnecting: ${grpc.status[e.code]}: ${e.details}`);
      await new Promise((r) => setTimeout(r, 500));
      return undefined;
    });
  }
  assert.ok(after, 'Submit works again within 60 s of NATS coming back');
  assert.equal((await client.watch(after.id, () => undefined)).state, 'SUCCEEDED');
});
