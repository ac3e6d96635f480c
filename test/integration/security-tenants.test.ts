import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken, tokenLine } from '../../common/auth.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';
import { expectCode } from '../helpers/grpc-asserts.ts';

/**
 * Bearer-token tenants on a live coordinator: calls without a valid token
 * are UNAUTHENTICATED, a tenant sees only its own jobs (another's answers
 * NOT_FOUND, like a job that does not exist), admins see all, and the queue
 * limits (per tenant and overall) answer RESOURCE_EXHAUSTED.
 */

const tokens = { alice: generateToken(), bob: generateToken(), root: generateToken() };
const dir = mkdtempSync(join(tmpdir(), 'propeller-tenants-'));
let worker: WorkerHandle;
let coordinator: CoordinatorHandle;
const clients: JobClient[] = [];

function client(token?: string): JobClient {
  const c = new JobClient(coordinator.address, 30_000, { token });
  clients.push(c);
  return c;
}

before(async () => {
  // The tokens file holds hashes only, as `propeller token` prints them.
  const file = join(dir, 'tokens');
  writeFileSync(file, `# tenants\n${tokenLine('alice', tokens.alice)}\n${tokenLine('bob', tokens.bob)}\n`);
  worker = await startTestWorker();
  coordinator = await startTestCoordinator({
    workers: [worker.address],
    maxConcurrentJobs: 1,
    maxMessageBytes: 1 << 20,
    // The admin comes inline (as $PROPELLER_TOKENS does), alongside the file.
    auth: { tokensFile: file, tokens: [{ tenant: 'root', sha256: tokenLine('root', tokens.root).split(':')[1]!, admin: true }] },
    limits: { maxQueued: 3, maxQueuedPerTenant: 2 } as never,
  });
});

after(async () => {
  for (const c of clients) c.close();
  await coordinator.close();
  await worker.drain();
});

const small: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 3, seed: 3, output: { format: 'latent' } };

/** Every JobService method through `c`. */
function everyMethod(c: JobClient): [string, Promise<unknown>][] {
  return [
    ['Submit', c.submit(small)],
    ['Get', c.get('job-x')],
    ['List', c.list()],
    ['Watch', c.watch('job-x', () => undefined)],
    ['Cancel', c.cancel('job-x')],
    ['Download', c.download('job-x', join(dir, 'x'))],
    ['ListWorkers', c.workers()],
    ['ListModels', c.models()],
  ];
}

test('tenants - no token, a wrong token or a malformed header is UNAUTHENTICATED on every method', async () => {
  for (const [label, c] of [
    ['no token', client()],
    ['wrong token', client(generateToken())],
    ['a hash instead of the token', client(tokenLine('alice', tokens.alice).split(':')[1]!)],
  ] as const) {
    for (const [method, p] of everyMethod(c)) {
      const e = await expectCode(p, grpc.status.UNAUTHENTICATED).catch((err: unknown) => {
        throw new Error(`${label}, ${method}: ${(err as Error).message}`);
      });
      assert.match(e.details, label === 'no token' ? /missing bearer token/ : /invalid bearer token/);
    }
  }
  // Not a bearer token at all.
  const Ctor = loadProtos().jobs.propeller.v1.JobService;
  const raw = new Ctor(coordinator.address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Basic ${Buffer.from('alice:secret').toString('base64')}`);
  await expectCode(new Promise((res, rej) => raw.ListModels({}, md, (err: grpc.ServiceError | null, r?: unknown) => (err ? rej(err) : res(r)))), grpc.status.UNAUTHENTICATED, /malformed authorization header/);
  raw.close();
  // Nothing was created by any of it.
  assert.equal((await client(tokens.root).list()).length, 0);
});

test('tenants - a tenant cannot get, watch, cancel or download another tenant\'s job: NOT_FOUND, like a missing job', async () => {
  const alice = client(tokens.alice);
  const bob = client(tokens.bob);
  const root = client(tokens.root);
  const job = await alice.submit(small, 'same-request-id');
  const done = await alice.watch(job.id, () => undefined);
  assert.equal(done.state, 'SUCCEEDED');

  const missing = await expectCode(bob.get('job-does-not-exist'), grpc.status.NOT_FOUND);
  const theirs = await expectCode(bob.get(job.id), grpc.status.NOT_FOUND);
  // The answer is the one for a job that does not exist: nothing tells the two apart.
  assert.equal(theirs.details.replace(job.id, 'ID'), missing.details.replace('job-does-not-exist', 'ID'));
  await expectCode(bob.watch(job.id, () => undefined), grpc.status.NOT_FOUND, /not found/);
  await expectCode(bob.cancel(job.id), grpc.status.NOT_FOUND, /not found/);
  await expectCode(bob.download(job.id, join(dir, 'stolen')), grpc.status.NOT_FOUND, /not found/);
  assert.deepEqual(await bob.list(), []);

  // The same client request id from another tenant makes that tenant's own job.
  const bobs = await bob.submit(small, 'same-request-id');
  assert.notEqual(bobs.id, job.id);
  assert.equal(bobs.clientRequestId, 'same-request-id');
  assert.equal((await alice.submit(small, 'same-request-id')).id, job.id, 'the owner still gets its job back');
  await bob.watch(bobs.id, () => undefined);

  // The owner and the admin see it; the admin sees every tenant's jobs.
  assert.equal((await alice.get(job.id)).state, 'SUCCEEDED');
  assert.deepEqual((await alice.list()).map((j) => j.id), [job.id]);
  assert.equal((await root.get(job.id)).id, job.id);
  assert.deepEqual(new Set((await root.list()).map((j) => j.id)), new Set([job.id, bobs.id]));
  const out = join(dir, 'out.latent');
  const { bytes } = await alice.download(job.id, out);
  assert.equal(bytes, readFileSync(out).length);
  assert.ok(bytes > 0);
});

test('tenants - queue full: per tenant and overall answer RESOURCE_EXHAUSTED, and nothing is created', async () => {
  const alice = client(tokens.alice);
  const bob = client(tokens.bob);
  const root = client(tokens.root);
  // One long job holds the only run slot, so the next ones wait.
  const long = await root.submit({ ...small, steps: 1000 });
  for (;;) {
    if ((await root.get(long.id)).state === 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const a1 = await alice.submit(small);
  const a2 = await alice.submit(small);
  await expectCode(alice.submit(small), grpc.status.RESOURCE_EXHAUSTED, /tenant "alice" has 2 jobs waiting/);
  // The quota comes before the upload is looked at: a tenant at its limit gets no decoding, even of garbage.
  const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256));
  await expectCode(alice.submit({ ...small, mode: 'image_to_video', input: { data: garbage } }), grpc.status.RESOURCE_EXHAUSTED, /tenant "alice" has 2 jobs waiting/);
  const b1 = await bob.submit(small);
  await expectCode(bob.submit(small), grpc.status.RESOURCE_EXHAUSTED, /queue is full \(3 jobs waiting\)/);
  assert.equal((await root.list(['QUEUED'])).length, 3);
  for (const j of [a1, a2]) assert.equal((await alice.cancel(j.id)).state, 'CANCELED');
  assert.equal((await bob.cancel(b1.id)).state, 'CANCELED');
  assert.equal((await root.cancel(long.id)).state, 'CANCELED');
});

test('limits - a message over the coordinator\'s limit is RESOURCE_EXHAUSTED', async () => {
  const alice = client(tokens.alice);
  await expectCode(alice.submit({ ...small, prompt: 'ocean '.repeat(300_000) }), grpc.status.RESOURCE_EXHAUSTED, /larger than max|exceeds|too large/i);
  // Still serving.
  assert.ok((await alice.models()).models.length > 0);
});

test('tenants - a tenant\'s unfinished jobs (running and queued) are bounded: the next submit is RESOURCE_EXHAUSTED', async () => {
  const other = await startTestCoordinator({
    workers: [worker.address],
    maxConcurrentJobs: 1,
    auth: { tokens: [{ tenant: 'carol', sha256: hashToken(tokens.alice), admin: false }] },
    limits: { maxQueuedPerTenant: 5, maxActivePerTenant: 2 } as never,
  });
  const carol = new JobClient(other.address, 30_000, { token: tokens.alice });
  try {
    const long = await carol.submit({ ...small, steps: 1000 });
    for (;;) {
      if ((await carol.get(long.id)).state === 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const queued = await carol.submit(small);
    await expectCode(carol.submit(small), grpc.status.RESOURCE_EXHAUSTED, /tenant "carol" has 2 unfinished jobs, its limit/);
    await carol.cancel(long.id);
    // One finished: room for one more.
    const next = await carol.submit(small);
    for (const j of [queued, next]) assert.equal((await carol.watch(j.id, () => undefined)).state, 'SUCCEEDED');
  } finally {
    carol.close();
    await other.close();
  }
});
