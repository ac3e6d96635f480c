import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { KV } from '@nats-io/kv';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { JetStreamJobs } from '../../coordinator/jetstream/mod.ts';
import type { JobRecord, JobState } from '../../coordinator/jobs/job.ts';
import { JobManager, type RenderFn } from '../../coordinator/jobs/job-manager.ts';
import type { JobStore, TenantLoad } from '../../coordinator/jobs/ports.ts';
import type { ValidSpec } from '../../coordinator/jobs/spec.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startTestCoordinator, startTestWorker, testLog } from '../helpers/servers.ts';
import { jetStreamFixture } from '../helpers/jetstream-fixture.ts';
import { jobRecord } from '../helpers/job-records.ts';

/**
 * Tenant quotas with jobs on JetStream: Submit's quota check reads no job
 * record however many the bucket holds (an index of unfinished jobs built at
 * start and kept by a watch), the limit is exact on one coordinator (a burst
 * of concurrent submits included), a canceled or finished job frees its
 * place, and every coordinator on the prefix (a restarted one included)
 * counts the others' jobs.
 */
const js = jetStreamFixture('pquota');

const SPEC = { model: 'field-mixture', prompt: 'quota', frames: 16, height: 128, width: 128, steps: 4, seed: 1, priority: 0, output: { format: 'latent' } } as unknown as ValidSpec;

function record(id: string, tenant: string, state: JobState, createdAtMs: number): JobRecord {
  return jobRecord(id, { spec: SPEC, state, createdAtMs, tenant });
}

const ENDED: JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];
const TENANTS = ['alice', 'bob', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9'];

/**
 * `n` records written straight through the store (64 at once): mostly
 * finished, every 7th of tenants t2-t9 queued, alice with exactly 2 QUEUED
 * and 1 RUNNING, bob with none unfinished.
 */
async function seed(store: JobStore, n: number): Promise<void> {
  const base = Date.now() - n;
  const aliceUnfinished: Record<number, JobState> = { 0: 'QUEUED', 10: 'QUEUED', 20: 'RUNNING' };
  const states = Array.from({ length: n }, (_, i): JobState => {
    if (i % 10 === 0) return aliceUnfinished[i] ?? ENDED[i % 3]!;
    if (i % 10 === 1) return ENDED[i % 3]!;
    return i % 7 === 1 ? 'QUEUED' : ENDED[i % 3]!;
  });
  for (let i = 0; i < n; i += 64) {
    await Promise.all(states.slice(i, i + 64).map((state, k) => store.create(record(`job-seed-${String(i + k).padStart(5, '0')}`, TENANTS[(i + k) % 10]!, state, base + i + k))));
  }
}

/** The tenant's counts the slow way: every record read. */
async function counted(store: JobStore, tenant: string): Promise<TenantLoad> {
  const jobs = await store.list({ states: ['QUEUED', 'RUNNING', 'ENCODING'], tenant });
  return { queued: jobs.filter((j) => j.state === 'QUEUED').length, unfinished: jobs.length };
}

/** Polls until `check` holds (the watch delivers within milliseconds; the bound is for slow machines). */
async function eventually(what: string, check: () => Promise<boolean>, boundMs = 20_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('tenant quota on jetstream - a Submit with tokens reads no job record among 3,000; the limit is exact and a cancel frees it at once', async (t) => {
  const prefix = js.newPrefix();
  const writer = await js.backend(prefix);
  await seed(writer.store, 3000);
  const tokens = { alice: generateToken(), bob: generateToken() };
  const worker = await startTestWorker();
  js.onClose(() => worker.drain());
  const coordinator: CoordinatorHandle = await startTestCoordinator({
    workers: [worker.address],
    maxConcurrentJobs: 1,
    auth: { tokens: [{ tenant: 'alice', sha256: hashToken(tokens.alice), admin: false }, { tenant: 'bob', sha256: hashToken(tokens.bob), admin: false }] },
    jetstream: { servers: js.nats.url, prefix },
    limits: { maxQueuedPerTenant: 100, maxActivePerTenant: 4 } as never,
  });
  js.onClose(() => coordinator.close());
  const alice = new JobClient(coordinator.address, 30_000, { token: tokens.alice });
  const bob = new JobClient(coordinator.address, 30_000, { token: tokens.bob });
  js.onClose(async () => (alice.close(), bob.close()));
  const store = coordinator.jetstream!.store;

  // Built from the bucket at start: the same counts as reading every record.
  for (const tenant of ['alice', 'bob', 't7']) assert.deepEqual(await store.tenantLoad(tenant), await counted(store, tenant), tenant);
  assert.deepEqual(await store.tenantLoad('alice'), { queued: 2, unfinished: 3 });

  // Count what one Submit reads: KV gets (one per record read) and lists.
  const kv = (store as unknown as { kv: KV }).kv;
  const reads = { gets: 0, lists: 0 };
  const get = kv.get;
  kv.get = (...args: Parameters<KV['get']>) => (reads.gets++, get.apply(kv, args));
  const list = store.list;
  store.list = (...args: Parameters<JobStore['list']>) => (reads.lists++, list.apply(store, args));
  const long: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 1000, seed: 3, output: { format: 'latent' } };
  let first: Awaited<ReturnType<JobClient['submit']>>;
  const t0 = performance.now();
  try {
    first = await alice.submit(long, 'first');
  } finally {
    kv.get = get;
    store.list = list;
  }
  const ms = performance.now() - t0;
  t.diagnostic(`one Submit among 3000 records: ${reads.gets} KV gets, ${reads.lists} lists, ${ms.toFixed(1)} ms`);
  assert.equal(reads.lists, 0, 'Submit lists no jobs');
  // The client request id's entry; the run loop taking the job meanwhile reads a few (its record, its cancel key).
  assert.ok(reads.gets <= 10, `Submit read ${reads.gets} KV entries`);

  // alice: 3 seeded unfinished + 1 = 4, her limit. The message is the one of the in-memory store.
  const refused = (p: Promise<unknown>, message: RegExp) =>
    assert.rejects(p, (e: grpc.ServiceError) => (assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED, e.details), assert.match(e.details, message), true));
  await refused(alice.submit(long), /tenant "alice" has 4 unfinished jobs, its limit; retry when one has finished/);
  // Another tenant is not held back by alice's quota.
  const bobs = await bob.submit(long);
  // A cancel (written by this coordinator) frees the place at once: no waiting for the watch.
  assert.equal((await alice.cancel(first.id)).state, 'CANCELED');
  const second = await alice.submit(long);
  await refused(alice.submit(long), /tenant "alice" has 4 unfinished jobs, its limit/);
  assert.deepEqual(await store.tenantLoad('alice'), await counted(store, 'alice'));
  for (const j of [second, bobs]) await alice.cancel(j.id).catch(() => bob.cancel(j.id));
});

/** A render that holds its job RUNNING until `finish(id)` (or a cancel). */
function heldRenders(): { render: RenderFn; finish(id: string): void; running(): string[] } {
  const held = new Map<string, () => void>();
  return {
    render: (job, _report, signal) =>
      new Promise((resolve, reject) => {
        held.set(job.id, () => resolve({ outputBytes: 1 }));
        signal.addEventListener('abort', () => (held.delete(job.id), reject(signal.reason as Error)), { once: true });
      }),
    finish: (id) => {
      held.get(id)?.();
      held.delete(id);
    },
    running: () => [...held.keys()],
  };
}

function manager(b: JetStreamJobs, render: RenderFn): JobManager {
  const m = new JobManager({
    store: b.store,
    queue: b.queue,
    cancels: b.cancels,
    checkpoints: b.checkpoints,
    render,
    maxConcurrentJobs: 1,
    maxQueued: 1000,
    maxQueuedPerTenant: 3,
    maxActivePerTenant: 4,
    progressIntervalMs: 0,
    log: testLog,
    remoteCancelWaitMs: 2_000,
  });
  js.onClose(() => m.close());
  return m;
}

test('tenant quota on jetstream - a burst is cut exactly at the limit; another coordinator counts the jobs, also after a restart', async () => {
  const prefix = js.newPrefix();
  const [a, b] = [await js.backend(prefix), await js.backend(prefix)];
  const renders = heldRenders();
  // Neither runs jobs yet: they stay QUEUED.
  const ma = manager(a, renders.render);
  const mb = manager(b, renders.render);

  // Eight concurrent submits of one tenant on one coordinator: exactly its 3 queued places.
  const burst = await Promise.allSettled(Array.from({ length: 8 }, () => ma.submit(SPEC, '', 'alice')));
  const created = burst.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<JobRecord>).value);
  assert.equal(created.length, 3, 'admitted');
  for (const r of burst) if (r.status === 'rejected') assert.match((r.reason as Error).message, /tenant "alice" has 3 jobs waiting, its limit; retry when one has started/);
  assert.deepEqual(await a.store.tenantLoad('alice'), { queued: 3, unfinished: 3 });

  // The other coordinator counts them once its watch delivers them, and refuses the next.
  await eventually("b counts a's jobs", async () => (await b.store.tenantLoad('alice')).queued === 3);
  await assert.rejects(mb.submit(SPEC, '', 'alice'), /tenant "alice" has 3 jobs waiting, its limit/);
  await mb.submit(SPEC, '', 'bob');

  // A cancel on a frees a place at once there, and on b after its watch.
  assert.equal((await ma.cancel(created[0]!.id)).state, 'CANCELED');
  assert.deepEqual(await a.store.tenantLoad('alice'), { queued: 2, unfinished: 2 });
  created.push(await mb.submit(SPEC, '', 'alice').catch(async () => {
    await eventually('b sees the cancel', async () => (await b.store.tenantLoad('alice')).queued === 2);
    return mb.submit(SPEC, '', 'alice');
  }));
  await eventually('a sees the submit on b', async () => (await a.store.tenantLoad('alice')).queued === 3);

  // b runs jobs: one RUNNING, then SUCCEEDED; a's counts follow b's writes.
  mb.start();
  const agree = (what: string) =>
    eventually(`a and b count what the records say: ${what}`, async () => {
      for (const tenant of ['alice', 'bob']) {
        const truth = JSON.stringify(await counted(a.store, tenant));
        if (JSON.stringify(await a.store.tenantLoad(tenant)) !== truth || JSON.stringify(await b.store.tenantLoad(tenant)) !== truth) return false;
      }
      return true;
    });
  await eventually('b runs one', async () => renders.running().length === 1);
  const runningId = renders.running()[0]!;
  await agree('one running on b');
  const tenant = (await a.store.get(runningId))!.tenant!;
  const before = (await a.store.tenantLoad(tenant)).unfinished;
  renders.finish(runningId);
  await eventually('a sees it finished', async () => (await a.store.get(runningId))?.state === 'SUCCEEDED');
  await eventually('the finished job left a\'s count', async () => (await a.store.tenantLoad(tenant)).unfinished === before - 1);
  await agree('one finished on b');

  // b takes the next job; closed while that one renders, b hands it back.
  await eventually('b runs the next', async () => renders.running().length === 1);

  // A coordinator started now (a restart) has the counts from the bucket at once.
  await mb.close();
  await b.close();
  const c = await js.backend(prefix);
  for (const tenant of ['alice', 'bob']) assert.deepEqual(await c.store.tenantLoad(tenant), await counted(c.store, tenant), tenant);
  assert.ok((await c.store.tenantLoad('bob')).unfinished >= 1);
});
