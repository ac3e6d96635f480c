import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kvm, type KV } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { jetStreamNames } from '../../coordinator/jetstream/mod.ts';
import { encodeJob, jobKey } from '../../coordinator/jetstream/stored-job.ts';
import { JOB_STATES, type JobState } from '../../coordinator/jobs/job.ts';
import type { ValidSpec } from '../../coordinator/jobs/spec.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';
import { jetStreamFixture } from '../helpers/jetstream-fixture.ts';
import { jobRecord } from '../helpers/job-records.ts';

/**
 * Constant work on JetStream, whatever the number of job records: a metrics
 * scrape, a Submit and a List page read the same (few) KV entries with 100
 * records in the bucket as with 10,000. A real coordinator (gRPC, metrics,
 * the JetStream adapters) on a real nats-server; the records are written
 * straight into the bucket in the stored format, 500 at once.
 */
const js = jetStreamFixture('pwork');

/** Seeded record `i`: mostly finished; every 50th QUEUED, the next RUNNING; four tenants. */
function seedState(i: number): JobState {
  if (i % 50 === 0) return 'QUEUED';
  if (i % 50 === 1) return 'RUNNING';
  return (['SUCCEEDED', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const)[i % 4]!;
}
const seedId = (i: number) => `job-seed-${String(i).padStart(6, '0')}`;

/** Writes `n` records of `spec` into the prefix's jobs bucket (a coordinator created it). */
async function seed(prefix: string, n: number, spec: ValidSpec): Promise<void> {
  const kv = await new Kvm(jetstream(js.nc)).open(jetStreamNames(prefix).jobs);
  // Older than anything the test submits: the newest records are the last seeded.
  const base = Date.now() - n - 60_000;
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, k) => {
        const j = i + k;
        const record = jobRecord(seedId(j), { spec, state: seedState(j), createdAtMs: base + j, tenant: ['ops', 'alice', 'bob', 'carol'][j % 4] });
        return kv.put(jobKey(record.id), encodeJob(record, 'queued'));
      }),
    );
  }
}

/** What one call read: KV entries got, scans (keys, history, watches opened), and the connection's traffic. */
interface Reads {
  gets: number;
  scans: number;
  inMsgs: number;
  inBytes: number;
}

/** Counts the KV reads and the messages the coordinator's connection receives while `fn` runs. */
async function counted<T>(c: CoordinatorHandle, fn: () => Promise<T>): Promise<{ value: T; reads: Reads }> {
  const b = c.jetstream!;
  const kv = (b.store as unknown as { kv: KV }).kv;
  const reads = { gets: 0, scans: 0 };
  const original = { get: kv.get, keys: kv.keys, history: kv.history, watch: kv.watch };
  kv.get = (...a: Parameters<KV['get']>) => (reads.gets++, original.get.apply(kv, a));
  kv.keys = (...a: Parameters<KV['keys']>) => (reads.scans++, original.keys.apply(kv, a));
  kv.history = (...a: Parameters<KV['history']>) => (reads.scans++, original.history.apply(kv, a));
  kv.watch = (...a: Parameters<KV['watch']>) => (reads.scans++, original.watch.apply(kv, a));
  const before = b.stats();
  try {
    const value = await fn();
    const after = b.stats();
    return { value, reads: { ...reads, inMsgs: after.inMsgs - before.inMsgs, inBytes: after.inBytes - before.inBytes } };
  } finally {
    Object.assign(kv, original);
  }
}

const LONG: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 1000, seed: 3, output: { format: 'latent' } };
const PAGE = 20;

/** A coordinator over `n` seeded records: what a scrape, two List pages (one filtered) and a Submit read. */
async function measure(n: number, workerAddress: string): Promise<Record<'scrape' | 'page' | 'nextPage' | 'queuedPage' | 'submit', Reads>> {
  const prefix = js.newPrefix();
  const token = generateToken();
  const start = () =>
    startTestCoordinator({
      workers: [workerAddress],
      maxConcurrentJobs: 1,
      auth: { tokens: [{ tenant: 'ops', sha256: hashToken(token), admin: true }] },
      jetstream: { servers: js.nats.url, prefix },
      limits: { maxQueuedPerTenant: 1000, maxActivePerTenant: 1000 } as never,
    });
  // The first coordinator creates the bucket, and its one job gives the seeded records a real
  // spec (then goes); the one measured starts on the seeded records (its index loads at start).
  const creator = await start();
  const creatorClient = new JobClient(creator.address, 30_000, { token });
  const model = await creator.jobs.get((await creatorClient.submit({ ...LONG, steps: 4 })).id);
  await creatorClient.cancel(model.id);
  creatorClient.close();
  await creator.close();
  await (await new Kvm(jetstream(js.nc)).open(jetStreamNames(prefix).jobs)).purge(jobKey(model.id));
  const t0 = performance.now();
  await seed(prefix, n, model.spec);
  const seededMs = performance.now() - t0;
  const c = await start();
  js.onClose(() => c.close());
  const client = new JobClient(c.address, 30_000, { token });
  js.onClose(async () => client.close());

  const expected = new Map<JobState, number>(JOB_STATES.map((s) => [s, 0]));
  for (let i = 0; i < n; i++) expected.set(seedState(i), expected.get(seedState(i))! + 1);

  const scrape = await counted(c, () => c.metrics.registry.metrics());
  for (const s of JOB_STATES) assert.match(scrape.value, new RegExp(`^propeller_jobs\\{state="${s}"\\} ${expected.get(s)}$`, 'm'), `${n} records: jobs ${s}`);

  const page = await counted(c, () => client.listPage({ pageSize: PAGE }));
  assert.deepEqual(page.value.jobs.map((j) => j.id), Array.from({ length: PAGE }, (_, k) => seedId(n - 1 - k)), 'the newest records first');
  const nextPage = await counted(c, () => client.listPage({ pageSize: PAGE, pageToken: page.value.nextPageToken }));
  assert.deepEqual(nextPage.value.jobs.map((j) => j.id), Array.from({ length: PAGE }, (_, k) => seedId(n - 1 - PAGE - k)));
  // QUEUED records are one in 50: the index skips the others without reading them.
  const queuedPage = await counted(c, () => client.listPage({ states: ['QUEUED'], pageSize: 1 }));
  assert.deepEqual(queuedPage.value.jobs.map((j) => j.id), [seedId(n - 50)]);

  const submit = await counted(c, () => client.submit(LONG, `work-${n}`));
  await client.cancel(submit.value.id);
  const reads = { scrape: scrape.reads, page: page.reads, nextPage: nextPage.reads, queuedPage: queuedPage.reads, submit: submit.reads };
  console.log(`# ${n} records (seeded in ${seededMs.toFixed(0)} ms): ${JSON.stringify(reads)}`);
  return reads;
}

test('jetstream constant work - a scrape, a Submit and a List page read as little among 10,000 records as among 100', async () => {
  const worker = await startTestWorker();
  js.onClose(() => worker.drain());
  const small = await measure(100, worker.address);
  const large = await measure(10_000, worker.address);
  for (const [what, r] of Object.entries({ small, large })) {
    assert.equal(r.scrape.gets + r.scrape.scans, 0, `${what}: the scrape reads no job record`);
    for (const p of ['page', 'nextPage'] as const) {
      // The page and one more (is there a next page?), nothing else.
      assert.equal(r[p].gets, PAGE + 1, `${what}: ${p} reads ${r[p].gets} records`);
      assert.equal(r[p].scans, 0, `${what}: ${p} scans nothing`);
    }
    assert.equal(r.queuedPage.gets, 2, `${what}: a filtered page reads the jobs it shows and one more`);
    // The request id's entry; the run loop taking the job meanwhile reads a few more (its record, its cancel key).
    assert.ok(r.submit.gets <= 10 && r.submit.scans === 0, `${what}: Submit read ${r.submit.gets} entries, ${r.submit.scans} scans`);
  }
  // What the connection received does not grow with the records either (10,000 records are ~10 MB).
  for (const p of ['scrape', 'page', 'nextPage', 'queuedPage', 'submit'] as const) {
    assert.ok(large[p].inBytes < small[p].inBytes + 64 * 1024, `${p}: ${large[p].inBytes} bytes received among 10,000 records, ${small[p].inBytes} among 100`);
  }
});
