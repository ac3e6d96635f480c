import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { JobClient } from '../../cli/job-client.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import type { JobLease } from '../../coordinator/jobs/ports.ts';
import { jetStreamNames, PRIORITY_BANDS } from '../../coordinator/jetstream/mod.ts';
import { follow, smallJob, waitFor } from '../helpers/cluster.ts';
import { startTestCoordinator, startTestWorker } from '../helpers/servers.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Objm } from '@nats-io/obj';
import { syntheticFrame, writeTestPng } from '../helpers/media.ts';
import { downloadBytes } from '../helpers/cluster.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetStreamFixture } from '../helpers/jetstream-fixture.ts';
import { jobRecord } from '../helpers/job-records.ts';

/**
 * Jobs on a real NATS JetStream server this file starts (nats-server -js on
 * a free loopback port): the adapters and in-process coordinators sharing
 * them. Without nats-server these tests fail; they never skip. Every test
 * uses a prefix of its own and deletes what it created.
 */
const js = jetStreamFixture('ptest');

/** A QUEUED job record for the store tests (the spec holds only what a test needs). */
function queuedRecord(id: string, spec: object, clientRequestId: string) {
  return jobRecord(id, { spec: spec as never, clientRequestId });
}

async function coordinator(prefix: string, workers: WorkerHandle[], extra: { ackWaitMs?: number; maxConcurrentJobs?: number } = {}): Promise<CoordinatorHandle> {
  const c = await startTestCoordinator({
    workers: workers.map((w) => w.address),
    maxConcurrentJobs: extra.maxConcurrentJobs ?? 2,
    jetstream: { servers: js.nats.url, prefix, ackWaitMs: extra.ackWaitMs ?? 3_000, checkpointIntervalMs: 0 },
  });
  js.onClose(() => c.close());
  return c;
}

/** A coordinator on `prefix` that runs one job at a time over `worker`, and a client of it (both closed afterwards). */
async function singleJobCoordinator(prefix: string, worker: WorkerHandle): Promise<{ coordinator: CoordinatorHandle; client: JobClient }> {
  const c = await coordinator(prefix, [worker], { maxConcurrentJobs: 1 });
  const client = new JobClient(c.address);
  js.onClose(() => client.close());
  return { coordinator: c, client };
}

test('jetstream - the stream, bucket and object store are created with the documented retention, replicas and limits', async () => {
  const prefix = js.newPrefix();
  await js.backend(prefix);
  const names = jetStreamNames(prefix);
  const jsm = await jetstreamManager(js.nc);
  const stream = await jsm.streams.info(names.stream);
  assert.equal(stream.config.retention, 'workqueue');
  assert.equal(stream.config.num_replicas, 1);
  assert.equal(stream.config.max_msgs, 100_000);
  assert.equal(stream.config.discard, 'new');
  assert.equal(stream.config.duplicate_window, 120_000_000_000);
  assert.deepEqual(stream.config.subjects, [`${prefix}.submit.*`]);
  for (const band of PRIORITY_BANDS) {
    const c = await jsm.consumers.info(names.stream, names.consumer(band));
    assert.equal(c.config.ack_policy, 'explicit');
    assert.equal(c.config.ack_wait, 30_000_000_000);
    assert.equal(c.config.filter_subject, `${prefix}.submit.${band}`);
  }
  const kv = await jsm.streams.info(`KV_${names.jobs}`);
  assert.equal(kv.config.max_msgs_per_subject, 1);
  assert.equal(kv.config.max_age, 7 * 24 * 3600 * 1e9);
  const obj = await jsm.streams.info(`OBJ_${names.artifacts}`);
  assert.equal(obj.config.max_age, 7 * 24 * 3600 * 1e9);
  // Opening again (a second coordinator, a restart) keeps what exists.
  await js.backend(prefix);
});

test('jetstream - queue: higher bands first, FIFO within one, a lapsed lease goes to another taker, release hands back at once', async () => {
  const prefix = js.newPrefix();
  const a = await js.backend(prefix, { ackWaitMs: 1_500 });
  const b = await js.backend(prefix, { ackWaitMs: 1_500 });
  const signal = new AbortController().signal;
  await a.queue.push('job-low', -5);
  await a.queue.push('job-normal-1', 0);
  await a.queue.push('job-high', 7);
  await a.queue.push('job-normal-2', 0);
  await a.queue.push('job-normal-1', 0); // a repeated submission of one job id is dropped
  assert.equal(await a.queue.size(), 4);
  const order: string[] = [];
  const leases: JobLease[] = [];
  for (let i = 0; i < 4; i++) {
    const l = await a.queue.take(signal);
    order.push(l.id);
    leases.push(l);
  }
  assert.deepEqual(order, ['job-high', 'job-normal-1', 'job-normal-2', 'job-low']);
  assert.equal(await a.queue.size(), 0);
  // job-high is finished, job-normal-1 is given back, job-normal-2 kept alive; job-low is abandoned.
  await leases[0]!.ack();
  await leases[1]!.release();
  const back = await b.queue.take(signal);
  assert.equal(back.id, 'job-normal-1');
  assert.equal(back.redeliveries, 1);
  await back.ack();
  const keepAlive = setInterval(() => leases[2]!.working(), 400);
  try {
    const lapsed = await b.queue.take(signal);
    assert.equal(lapsed.id, 'job-low', 'only the abandoned lease lapses');
    assert.equal(lapsed.redeliveries, 1);
    await lapsed.ack();
  } finally {
    clearInterval(keepAlive);
  }
  await leases[2]!.ack();
  // A take that is aborted rejects with the reason.
  const ctl = new AbortController();
  const pending = b.queue.take(ctl.signal);
  ctl.abort(new Error('closing'));
  await assert.rejects(pending, /closing/);
});

test('jetstream - job store: idempotent create by client request id, fenced writers, watch of every write', async () => {
  const prefix = js.newPrefix();
  const a = await js.backend(prefix);
  const b = await js.backend(prefix);
  const job = (id: string) => queuedRecord(id, {}, 'req-1');
  const [x, y] = await Promise.all([a.store.create(job('job-x')), b.store.create(job('job-y'))]);
  assert.equal(x.id, y.id, 'two creates with one client request id make one job');
  const id = x.id;
  assert.equal((await a.store.findByClientRequestId('req-1'))?.id, id);
  assert.equal((await a.store.list()).length, 1);

  const seen: string[] = [];
  const stop = await b.store.watch(id, (j, message) => seen.push(`${j.state}:${message}`));
  // a claims the job; b takes it over (a stopped renewing); a's next write is refused.
  const claimed = await a.store.update(id, (j) => ({ ...j, state: 'RUNNING' }), 'started');
  assert.equal(claimed?.state, 'RUNNING');
  await b.store.update(id, (j) => ({ ...j }), 'taken over');
  await assert.rejects(a.store.put({ ...claimed!, progress: { ...claimed!.progress, step: 2 } }, 'progress'), { name: 'LeaseLostError' });
  await b.store.put({ ...claimed!, state: 'SUCCEEDED' }, 'done');
  await waitFor('the watch to see every write', 5_000, () => (seen.length >= 4 ? true : undefined));
  stop();
  assert.deepEqual(seen, ['QUEUED:queued', 'RUNNING:started', 'RUNNING:taken over', 'SUCCEEDED:done']);
});

test('jetstream - job store: conditioning tensors larger than a NATS message live in the object store; lists carry their shapes', async () => {
  const prefix = js.newPrefix();
  const a = await js.backend(prefix);
  const values = new Float32Array(400_000).map((_, i) => Math.sin(i));
  const data = Buffer.from(values.buffer).toString('base64');
  const record = queuedRecord('job-big-conditioning', { conditioning: { prompt_embeds: { shape: [1000, 400], data } } }, '');
  await a.store.create(record);
  const got = await a.store.get(record.id);
  assert.equal(got?.spec.conditioning?.prompt_embeds?.data, data);
  const claimed = await a.store.update(record.id, (j) => ({ ...j, state: 'RUNNING' }));
  await a.store.put({ ...claimed!, progress: { ...claimed!.progress, step: 1 } }, 'progress');
  assert.equal((await a.store.get(record.id))?.spec.conditioning?.prompt_embeds?.data, data);
  const [listed] = await a.store.list();
  assert.deepEqual(listed!.spec.conditioning, { prompt_embeds: { shape: [1000, 400], data: '' } });
  assert.equal(listed!.progress.step, 1);
});

test('jetstream - two coordinators: one submit per client request id, watch and cancel from the one not running the job', { timeout: 180_000 }, async () => {
  const prefix = js.newPrefix();
  const worker = await startTestWorker({ intraOpThreads: 1 });
  js.onClose(() => worker.drain());
  const { coordinator: runner, client: rc } = await singleJobCoordinator(prefix, worker);

  // A long job, taken by the only coordinator there is.
  const long = await rc.submit(smallJob(3, 40));
  await waitFor('the long job to run', 30_000, async () => ((await rc.get(long.id)).state === 'RUNNING' ? true : undefined));
  const { coordinator: other, client: oc } = await singleJobCoordinator(prefix, worker);

  // Submitted twice with one client request id, through both coordinators: one job.
  const spec = smallJob(11, 3, { frames: 32, height: 128, width: 128 });
  const [s1, s2] = await Promise.all([oc.submit(spec, 'client-req-42'), rc.submit(spec, 'client-req-42')]);
  assert.equal(s1.id, s2.id);
  assert.equal((await oc.submit(spec, 'client-req-42')).id, s1.id);

  // Watch the long job from the coordinator that does not run it, then cancel it there.
  const events: string[] = [];
  let steps = 0;
  const watched = oc.watch(long.id, (e) => {
    events.push(e.message);
    if (e.job) steps = Math.max(steps, e.job.progress?.step ?? 0);
  });
  await waitFor('progress seen through the other coordinator', 60_000, () => (steps >= 2 ? true : undefined));
  const canceled = await oc.cancel(long.id);
  assert.equal(canceled.state, 'CANCELED');
  assert.equal((await watched).state, 'CANCELED');
  assert.ok(events.includes('canceled'), events.join(' | '));

  const done = await follow(oc, s1.id);
  assert.equal(done.state, 'SUCCEEDED', done.error);
  const all = await oc.list();
  assert.equal(all.filter((j) => j.clientRequestId === 'client-req-42').length, 1);
  assert.equal(all.length, 2);
  // Nothing is left on the queue: the duplicate never became a second run.
  assert.equal(await runner.jetstream!.queue.size(), 0);
});

test('jetstream - a coordinator that stops hands its Picard image_to_video job over: the other reads the upload and resumes bit for bit', { timeout: 240_000 }, async () => {
  const prefix = js.newPrefix();
  const worker = await startTestWorker({ intraOpThreads: 1 });
  js.onClose(() => worker.drain());
  const { coordinator: first, client: fc } = await singleJobCoordinator(prefix, worker);
  const dir = mkdtempSync(join(tmpdir(), 'propeller-js-media-'));
  const png = join(dir, 'first.png');
  writeTestPng(png, syntheticFrame(128, 128, 0), 128, 128);
  const spec: JobSpec = {
    model: 'field-mixture',
    prompt: 'ocean',
    frames: 48,
    height: 128,
    width: 128,
    steps: 16,
    seed: 5,
    mode: 'image_to_video',
    input: { data: readFileSync(png) },
    sampler: { kind: 'picard', window: 4, tolerance: 0.1, policy: 'forecast' },
    output: { format: 'latent' },
  };
  const job = await fc.submit(spec);
  let step = 0;
  const watching = fc.watch(job.id, (e) => (step = Math.max(step, e.job?.progress?.step ?? 0))).catch(() => undefined);
  await waitFor('the job to be a quarter done', 120_000, () => (step >= 4 ? true : undefined));

  // A second coordinator joins; the first stops gracefully and gives the job back at once.
  const { coordinator: second, client: sc } = await singleJobCoordinator(prefix, worker);
  const events: string[] = [];
  const done = sc.watch(job.id, (e) => events.push(e.message));
  await first.close();
  await watching;
  const end = await done;
  assert.equal(end.state, 'SUCCEEDED', end.error);
  const resumed = events.find((m) => m.startsWith('resumed from checkpoint at step'));
  assert.ok(resumed, events.join(' | '));
  assert.ok(Number(/step (\d+)/.exec(resumed)![1]) > 0);
  assert.ok(end.metrics.picard_rounds! > 0);

  // The same job run without interruption gives the same latent, bit for bit.
  const again = await sc.submit(spec);
  assert.equal((await follow(sc, again.id)).state, 'SUCCEEDED');
  const a = await downloadBytes(sc, job.id, dir);
  const b = await downloadBytes(sc, again.id, dir);
  assert.ok(a.equals(b), 'the handed-over job differs from an uninterrupted run');

  // Uploads and checkpoints are gone once their jobs ended; outputs stay.
  const objects = await (await new Objm(js.nc).open(jetStreamNames(prefix).artifacts)).list();
  const names = objects.map((o) => o.name).sort();
  assert.deepEqual(names, [`outputs/${again.id}`, `outputs/${job.id}`].sort());
});
