/**
 * The plaintext health port (`healthListen`, `--health-listen`): a worker and
 * a coordinator serving TLS on their main ports answer grpc.health.v1 in
 * plaintext on a second port, as kubelet's gRPC probes need, serve nothing
 * else there, and report NOT_SERVING there when they drain or close. The
 * worker's CLI takes the flag and its GPU UUID from the environment as the
 * Kubernetes device plugin sets it.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { spawnCliServer } from '../../cli/worker-process.ts';
import { compileCoordinatorConfig } from '../../coordinator/config.ts';
import { compileWorkerConfig } from '../../worker/config.ts';
import { call, denoiserClient, freePort, referenceModelDir, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';
import { makeTestPki, type TestPki } from '../helpers/tls.ts';

/** A plaintext client of grpc.health.v1 at `address` (the package's own service definition). */
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
interface Health extends grpc.Client {
  Check(req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}
const healthClient = (address: string) => new HealthClient(address, grpc.credentials.createInsecure()) as unknown as Health;

/** Health/Check of `service` ('' = the whole server), plaintext. */
async function check(address: string, service = ''): Promise<string> {
  const client = healthClient(address);
  try {
    return (await call(client.Check.bind(client), { service }, 5_000)).status;
  } finally {
    client.close();
  }
}

/** Statuses a Health/Watch stream of `service` reports until it ends. */
function watch(address: string, service = ''): { statuses: string[]; ended: Promise<void> } {
  const client = healthClient(address);
  const statuses: string[] = [];
  const stream = client.Watch({ service });
  stream.on('data', (m: { status: string }) => statuses.push(m.status));
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      client.close();
      resolve();
    };
    stream.on('error', done);
    stream.on('end', done);
  });
  return { statuses, ended };
}

async function unavailable(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.UNAVAILABLE, `${what}: got ${grpc.status[e.code]}: ${e.details}`);
    return true;
  });
}

describe('health - a plaintext health port beside a TLS server', () => {
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => rmSync(pki.dir, { recursive: true, force: true }));

  it('a worker with mTLS answers health in plaintext on its health port only, and NOT_SERVING there while draining', async () => {
    const worker = await startTestWorker({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, healthListen: '127.0.0.1:0' });
    let drained = false;
    try {
      assert.ok(worker.healthAddress, 'the health address is reported');
      assert.notEqual(worker.healthAddress, worker.address);
      assert.equal(await check(worker.healthAddress), 'SERVING');
      assert.equal(await check(worker.healthAddress, 'propeller.v1.DenoiserService'), 'SERVING');
      await assert.rejects(check(worker.healthAddress, 'no.such.Service'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
      // The main port speaks TLS only: a plaintext probe there fails.
      await unavailable(check(worker.address), 'plaintext health on the TLS port');
      // The health port serves nothing but health.
      const denoiser = denoiserClient(worker.healthAddress);
      try {
        await assert.rejects(call(denoiser.Info.bind(denoiser), {}, 5_000), (e: grpc.ServiceError) => e.code === grpc.status.UNIMPLEMENTED);
      } finally {
        denoiser.close();
      }
      const watching = watch(worker.healthAddress, 'propeller.v1.DenoiserService');
      await waitUntil(() => watching.statuses.length > 0);
      await worker.drain();
      drained = true;
      await watching.ended;
      assert.deepEqual(watching.statuses, ['SERVING', 'NOT_SERVING'], 'the watch saw the drain');
      await unavailable(check(worker.healthAddress), 'health after the worker stopped');
    } finally {
      if (!drained) await worker.drain();
    }
  });

  it('a coordinator with TLS answers health in plaintext on its health port, and NOT_SERVING there while closing', async () => {
    const coordinator = await startTestCoordinator({ tls: { cert: pki.serverCert, key: pki.serverKey }, healthListen: '127.0.0.1:0', workerStartWaitMs: 0 });
    let closed = false;
    try {
      const health = coordinator.healthAddress!;
      assert.equal(await check(health), 'SERVING');
      assert.equal(await check(health, 'propeller.v1.JobService'), 'SERVING');
      await unavailable(check(coordinator.address), 'plaintext health on the TLS port');
      const watching = watch(health);
      await waitUntil(() => watching.statuses.length > 0);
      await coordinator.close();
      closed = true;
      await watching.ended;
      assert.deepEqual(watching.statuses, ['SERVING', 'NOT_SERVING']);
    } finally {
      if (!closed) await coordinator.close();
    }
  });

  it('without healthListen there is no second port; a malformed one is refused by name', () => {
    assert.throws(() => compileWorkerConfig({ modelDirs: ['m'], healthListen: 'nonsense' }), /worker option healthListen: must be host:port/);
    assert.throws(() => compileCoordinatorConfig({ healthListen: '7480' }), /coordinator option healthListen: must be host:port/);
    assert.throws(() => compileWorkerConfig({ modelDirs: ['m'], gpuUuid: '0' }), /worker option gpuUuid: must be a GPU UUID/);
    assert.equal(compileWorkerConfig({ modelDirs: ['m'] }).healthListen, undefined);
  });

  it('the worker CLI: --health-listen with TLS, and the GPU UUID from NVIDIA_VISIBLE_DEVICES on its info metric', async () => {
    const port = await freePort();
    const uuid = 'GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256';
    const args = ['worker', '--models', await referenceModelDir(), '--listen', '127.0.0.1:0', '--health-listen', `127.0.0.1:${port}`, '--metrics-listen', '127.0.0.1:0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey];
    const child = await spawnCliServer(args, { env: { NVIDIA_VISIBLE_DEVICES: uuid, PROPELLER_GPU_UUID: '', PROPELLER_LOG_LEVEL: 'warn' } });
    try {
      assert.equal(await check(`127.0.0.1:${port}`), 'SERVING');
      await unavailable(check(child.address), 'plaintext health on the TLS port');
      const text = await (await fetch(`http://${child.metrics}/metrics`)).text();
      assert.match(text, new RegExp(`^propeller_worker_info\\{[^}]*gpu_uuid="${uuid}"[^}]*\\} 1$`, 'm'));
    } finally {
      await child.stop();
    }
  });
});

/** Resolves once `cond` holds (checked every 10 ms; the callers' events come within milliseconds). */
async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
