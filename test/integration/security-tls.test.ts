import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import { messageLimitOptions } from '../../common/grpc-options.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { call, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';
import { makeTestPki, type TestPki } from '../helpers/tls.ts';

/**
 * TLS on both services with certificates made at test time: the JobService
 * over TLS with tokens, workers that require a client certificate (mTLS)
 * from their coordinator. Plaintext clients, clients without a certificate
 * and clients with one from another CA are refused.
 */

let pki: TestPki;
let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
const token = generateToken();
const small: JobSpec = { model: 'field-mixture', prompt: 'fire', frames: 16, height: 128, width: 128, steps: 3, seed: 5, output: { format: 'latent' } };

before(async () => {
  pki = makeTestPki();
  worker = await startTestWorker({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca } });
  coordinator = await startTestCoordinator({
    workers: [worker.address],
    tls: { cert: pki.serverCert, key: pki.serverKey },
    workerTls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    auth: { tokens: [{ tenant: 'alice', sha256: hashToken(token), admin: false }] },
  });
});

after(async () => {
  await coordinator.close();
  await worker.drain();
});

/** Info on the worker with the given channel credentials. */
async function workerInfo(credentials: grpc.ChannelCredentials): Promise<InfoResponse__Output> {
  const Ctor = loadProtos().denoiser.propeller.v1.DenoiserService;
  const client = new Ctor(worker.address, credentials, messageLimitOptions());
  try {
    return await call(client.Info.bind(client), {}, 5_000);
  } finally {
    client.close();
  }
}

async function refused(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.UNAVAILABLE, `${what}: expected UNAVAILABLE, got ${grpc.status[e.code]}: ${e.details}`);
    return true;
  });
}

test('tls - a job runs end to end over TLS to the coordinator and mTLS to the worker', async () => {
  const client = new JobClient(coordinator.address, 30_000, { token, tls: { ca: pki.ca } });
  try {
    const job = await client.submit(small);
    const done = await client.watch(job.id, () => undefined);
    assert.equal(done.state, 'SUCCEEDED', done.error);
    const [w] = (await client.workers()).workers;
    assert.equal(w?.state, 'serving');
  } finally {
    client.close();
  }
});

test('tls - a plaintext client cannot talk to a TLS coordinator or a TLS worker', async () => {
  const plain = new JobClient(coordinator.address, 5_000, { token });
  try {
    await refused(plain.models(), 'plaintext to coordinator');
  } finally {
    plain.close();
  }
  await refused(workerInfo(grpc.credentials.createInsecure()), 'plaintext to worker');
  // A client that trusts another CA refuses the coordinator's certificate.
  const wrongCa = new JobClient(coordinator.address, 5_000, { token, tls: { ca: pki.rogueCa } });
  try {
    await refused(wrongCa.models(), 'client trusting another CA');
  } finally {
    wrongCa.close();
  }
});

test('tls - a worker refuses a client without a client certificate, or with one from another CA', async () => {
  const ca = readFileSync(pki.ca);
  await refused(workerInfo(grpc.credentials.createSsl(ca)), 'no client certificate');
  await refused(workerInfo(grpc.credentials.createSsl(ca, readFileSync(pki.rogueKey), readFileSync(pki.rogueCert))), 'rogue client certificate');
  const info = await workerInfo(grpc.credentials.createSsl(ca, readFileSync(pki.clientKey), readFileSync(pki.clientCert)));
  assert.ok(info.models.some((m) => m.name === 'field-mixture' && m.available));
});

test('tls - a coordinator without a client certificate gets no service from an mTLS worker', async () => {
  const other = await startTestCoordinator({ workers: [worker.address], workerTls: { ca: pki.ca }, noWorkerTimeoutMs: 500 });
  const client = new JobClient(other.address);
  try {
    const [w] = (await client.workers()).workers;
    assert.notEqual(w?.state, 'serving');
    assert.deepEqual((await client.models()).models, [], 'no model is known: the worker never answered');
    await assert.rejects(client.submit(small), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /unknown model/.test(e.details));
  } finally {
    client.close();
    await other.close();
  }
});
