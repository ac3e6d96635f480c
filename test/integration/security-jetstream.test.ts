import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import { destroyJetStreamJobs } from '../../coordinator/jetstream/mod.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * Tenants with jobs on NATS JetStream (a nats-server this file starts): the
 * tenant is part of the shared job record, so every coordinator enforces it,
 * whichever one took the submit.
 */
const prefix = `psec-${process.pid}-${randomBytes(3).toString('hex')}`;
const tokens = { alice: generateToken(), bob: generateToken(), ops: generateToken() };
const auth = {
  tokens: [
    { tenant: 'alice', sha256: hashToken(tokens.alice), admin: false },
    { tenant: 'bob', sha256: hashToken(tokens.bob), admin: false },
    { tenant: 'ops', sha256: hashToken(tokens.ops), admin: true },
  ],
};
let nats: NatsServer;
let nc: NatsConnection;
let worker: WorkerHandle;
const coordinators: CoordinatorHandle[] = [];
const clients: JobClient[] = [];

before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, timeout: 3_000 });
  worker = await startTestWorker();
  for (let i = 0; i < 2; i++) {
    coordinators.push(await startTestCoordinator({ workers: [worker.address], auth, jetstream: { servers: nats.url, prefix, checkpointIntervalMs: 0 }, dataDir: mkdtempSync(join(tmpdir(), 'propeller-sec-js-')) }));
  }
});

after(async () => {
  for (const c of clients) c.close();
  for (const c of coordinators) await c.close();
  await worker?.drain();
  if (nc) {
    await destroyJetStreamJobs(nc, prefix);
    await nc.close();
  }
  await nats?.stop();
});

function client(i: number, token: string): JobClient {
  const c = new JobClient(coordinators[i]!.address, 30_000, { token });
  clients.push(c);
  return c;
}

const small: JobSpec = { model: 'field-mixture', prompt: 'lava', frames: 16, height: 128, width: 128, steps: 3, seed: 9, output: { format: 'latent' } };

const notFound = (p: Promise<unknown>) => assert.rejects(p, (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && /not found/.test(e.details));

test('security jetstream - a job submitted on one coordinator is its tenant\'s on every coordinator', async () => {
  const aliceA = client(0, tokens.alice);
  const aliceB = client(1, tokens.alice);
  const bobB = client(1, tokens.bob);
  const opsB = client(1, tokens.ops);
  const job = await aliceA.submit(small, 'req-1');
  const done = await aliceB.watch(job.id, () => undefined);
  assert.equal(done.state, 'SUCCEEDED', done.error);
  assert.equal((await aliceB.get(job.id)).clientRequestId, 'req-1');

  await notFound(bobB.get(job.id));
  await notFound(bobB.watch(job.id, () => undefined));
  await notFound(bobB.cancel(job.id));
  await notFound(bobB.download(job.id, join(tmpdir(), `stolen-${process.pid}`)));
  assert.deepEqual(await bobB.list(), []);

  // Request ids are per tenant across coordinators too.
  const bobs = await bobB.submit(small, 'req-1');
  assert.notEqual(bobs.id, job.id);
  assert.equal((await aliceB.submit(small, 'req-1')).id, job.id);
  await bobB.watch(bobs.id, () => undefined);
  assert.deepEqual((await aliceB.list()).map((j) => j.id), [job.id]);
  assert.deepEqual(new Set((await opsB.list()).map((j) => j.id)), new Set([job.id, bobs.id]));
});
