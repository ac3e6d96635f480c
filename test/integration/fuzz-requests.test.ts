import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { FuzzDraws, WINDOW, WINDOW_N, type Request } from '../helpers/fuzz-draws.ts';
import { rawRequests } from '../helpers/fuzz-raw-requests.ts';
import { GOOD_SPEC, typedJobRequests, typedWorkerRequests } from '../helpers/fuzz-typed-requests.ts';
import { call, denoiserClient, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * Over 10,000 malformed requests against a live coordinator (tokens on) and
 * a live worker: raw bodies through a generic grpc-js client with identity
 * serializers (random bytes, truncated and bit-flipped valid messages, wrong
 * wire types, oversized fields), and structured-but-invalid requests through
 * the typed clients (NaN/Inf tensors, wrong shapes and dtypes, absurd sizes,
 * out-of-range and wrong-typed spec fields, bad tokens). Every answer must be
 * INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED or NOT_FOUND; no job
 * may be created; both servers still run a normal job afterwards.
 */

const MAX_MESSAGE = 4 << 20;
const IN_FLIGHT = 64;
const ALLOWED = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAUTHENTICATED, grpc.status.NOT_FOUND]);
const token = generateToken();
const adminToken = generateToken();

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;

before(async () => {
  worker = await startTestWorker({ maxMessageBytes: MAX_MESSAGE });
  coordinator = await startTestCoordinator({
    workers: [worker.address],
    maxMessageBytes: MAX_MESSAGE,
    auth: { tokens: [{ tenant: 'fuzz', sha256: hashToken(token), admin: false }, { tenant: 'ops', sha256: hashToken(adminToken), admin: true }] },
  });
});

after(async () => {
  await coordinator.close();
  await worker.drain();
});

const rng = new FuzzDraws(20_261_126);

/** Runs every request, `IN_FLIGHT` at a time, and counts answers by status code name. */
async function runAll(requests: Request[]): Promise<{ counts: Map<string, number>; unexpected: string[] }> {
  const counts = new Map<string, number>();
  const unexpected: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const code = await r();
      const name = grpc.status[code] ?? `code ${code}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!ALLOWED.has(code)) unexpected.push(`${name}: ${r.label ?? '(unlabelled)'}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { counts, unexpected };
}

test('fuzz - 10,000+ malformed requests get INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED or NOT_FOUND; both servers still run a job', async (t) => {
  const coordinatorRaw = new grpc.Client(coordinator.address, grpc.credentials.createInsecure());
  const workerRaw = new grpc.Client(worker.address, grpc.credentials.createInsecure());
  const jobClients = { valid: new JobClient(coordinator.address, 60_000, { token }), none: new JobClient(coordinator.address, 60_000), wrong: new JobClient(coordinator.address, 60_000, { token: generateToken() }) };
  const admin = new JobClient(coordinator.address, 60_000, { token: adminToken });
  const workerTyped = denoiserClient(worker.address);
  try {
    const requests = [
      ...rawRequests(rng, { coordinator: coordinatorRaw, worker: workerRaw, token, maxMessage: MAX_MESSAGE }, 5_000),
      ...typedJobRequests(rng, jobClients, 3_000),
      ...typedWorkerRequests(rng, workerTyped, 2_500),
    ];
    // Shuffle: raw, typed, coordinator and worker requests interleave on the wire.
    for (let i = requests.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [requests[i], requests[j]] = [requests[j]!, requests[i]!];
    }
    const started = performance.now();
    const { counts, unexpected } = await runAll(requests);
    const seconds = (performance.now() - started) / 1000;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const summary = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    t.diagnostic(`${total} malformed requests in ${seconds.toFixed(1)} s: ${summary}`);
    console.log(`fuzz: ${total} malformed requests in ${seconds.toFixed(1)} s: ${summary}`);
    assert.ok(total >= 10_000, `${total} requests`);
    assert.deepEqual(unexpected.slice(0, 20), [], `answers outside the allowed codes (${summary})`);

    // Nothing was created, and both servers still do real work.
    assert.deepEqual(await admin.list(), []);
    const job = await jobClients.valid.submit(GOOD_SPEC);
    const done = await jobClients.valid.watch(job.id, () => undefined);
    assert.equal(done.state, 'SUCCEEDED', done.error);
    const res = await call(workerTyped.Evaluate.bind(workerTyped), { model: 'field-mixture', items: [{ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10 }] } as never);
    assert.equal((res as { outputs: unknown[] }).outputs.length, 1);
  } finally {
    coordinatorRaw.close();
    workerRaw.close();
    for (const c of [...Object.values(jobClients), admin]) c.close();
    workerTyped.close();
  }
});
