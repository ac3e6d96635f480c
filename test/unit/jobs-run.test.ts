import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanceledError, StoreOutageError, UnavailableError } from '../../common/errors.ts';
import type { JobState } from '../../coordinator/jobs/job.ts';
import { runClaimedJob, type JobRunContext, type RenderFn } from '../../coordinator/jobs/job-run.ts';
import { MemoryJobStore } from '../../coordinator/jobs/memory-store.ts';
import { LeaseLostError, type JobLease } from '../../coordinator/jobs/ports.ts';
import { RECORD_SPEC, jobRecord } from '../helpers/job-records.ts';
import { testLog } from '../helpers/servers.ts';

/** One claimed job's run (coordinator/jobs/job-run.ts) on the in-memory store, with a scripted render and lease. */

const SPEC = RECORD_SPEC;

function fixture(render: RenderFn, opts: { draining?: boolean; release?: boolean } = {}) {
  const store = new MemoryJobStore();
  const job = jobRecord('job-1', { state: 'RUNNING', createdAtMs: 1, startedAtMs: Date.now() });
  const events: string[] = [];
  const leaseLog: string[] = [];
  const lease: JobLease = {
    id: job.id,
    redeliveries: 0,
    working: () => void leaseLog.push('working'),
    ack: async () => void leaseLog.push('ack'),
    release: async () => (leaseLog.push('release'), opts.release ?? true),
  };
  const ctx: JobRunContext = {
    store,
    render,
    log: testLog,
    progressIntervalMs: 60_000,
    leaseRefreshMs: 10,
    emit: (_j, message) => void events.push(message),
    transition: async (j, state: JobState, message) => {
      j.state = state;
      events.push(`${state}: ${message}`);
      return j;
    },
    cancel: async (j, message) => {
      events.push(`CANCELED: ${message}`);
      return { ...j, state: 'CANCELED' };
    },
    draining: () => opts.draining === true,
  };
  return { store, job, events, leaseLog, lease, ctx, ctl: new AbortController() };
}

test('job run - a render that succeeds: SUCCEEDED with its output size, acked; progress throttled to one event per interval', async () => {
  const f = fixture(async (_job, report) => {
    report({ kind: 'resumed', step: 2, totalSteps: 5, evaluations: 0 });
    for (let step = 3; step <= 5; step++) report({ kind: 'step', step, totalSteps: 5, evaluations: step, etaSeconds: 5 - step });
    await new Promise((r) => setTimeout(r, 40)); // long enough for the lease to be kept alive
    return { outputBytes: 123 };
  });
  await f.store.create(f.job);
  assert.equal(await runClaimedJob(f.ctx, f.job, f.lease, f.ctl), 'ended');
  assert.equal(f.job.state, 'SUCCEEDED');
  assert.equal(f.job.outputBytes, 123);
  assert.equal(f.job.progress.step, 5, 'every patch is applied');
  assert.deepEqual(f.events.filter((e) => e === 'progress'), ['progress'], 'one progress event within the interval');
  assert.ok(f.events.includes('resumed from checkpoint at step 2'));
  assert.ok(f.events.at(-1)!.startsWith('SUCCEEDED: done in'));
  assert.ok(f.leaseLog.includes('working'), 'the lease was kept alive');
  assert.equal(f.leaseLog.at(-1), 'ack');
});

test('job run - outcomes: FAILED with the error; CANCELED on a cancel; a store outage, a lost lease and a shutdown hand-back leave it', async () => {
  const failing = fixture(async () => {
    throw new Error('worker output 0.data contains NaN or Inf');
  });
  assert.equal(await runClaimedJob(failing.ctx, failing.job, failing.lease, failing.ctl), 'ended');
  assert.equal(failing.job.state, 'FAILED');
  assert.match(failing.job.error, /NaN or Inf/);
  assert.deepEqual(failing.leaseLog, ['ack']);

  const aborting = (reason: unknown) => (async (_j, _r, signal) => {
    queueMicrotask(() => canceled.ctl.abort(reason));
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    return { outputBytes: 0 };
  }) as RenderFn;
  const canceled = fixture(aborting(new CanceledError('canceled by request')));
  assert.equal(await runClaimedJob(canceled.ctx, canceled.job, canceled.lease, canceled.ctl), 'ended');
  assert.equal(canceled.job.state, 'CANCELED');

  const outage = fixture(async () => {
    throw new StoreOutageError('artifact store unavailable: NATS did not answer (timeout)');
  });
  assert.equal(await runClaimedJob(outage.ctx, outage.job, outage.lease, outage.ctl), 'left');
  assert.equal(outage.job.state, 'RUNNING', 'nothing written: another try goes on from the checkpoint');
  assert.deepEqual(outage.leaseLog, ['release']);

  const lost = fixture(async () => {
    throw new LeaseLostError('job-1');
  });
  assert.equal(await runClaimedJob(lost.ctx, lost.job, lost.lease, lost.ctl), 'left');
  assert.equal(lost.job.state, 'RUNNING');
  assert.deepEqual(lost.leaseLog, [], 'neither acked nor released: the new owner has it');

  const shutdown = fixture(async (_j, _r, signal) => {
    shutdown.ctl.abort(new UnavailableError('coordinator is shutting down'));
    signal.throwIfAborted();
    return { outputBytes: 0 };
  }, { draining: true });
  assert.equal(await runClaimedJob(shutdown.ctx, shutdown.job, shutdown.lease, shutdown.ctl), 'left');
  assert.deepEqual(shutdown.leaseLog, ['release']);

  // In-memory queues cannot hand a job back: on shutdown it ends FAILED with the reason.
  const alone = fixture(async (_j, _r, signal) => {
    alone.ctl.abort(new UnavailableError('coordinator is shutting down'));
    signal.throwIfAborted();
    return { outputBytes: 0 };
  }, { draining: true, release: false });
  assert.equal(await runClaimedJob(alone.ctx, alone.job, alone.lease, alone.ctl), 'ended');
  assert.equal(alone.job.state, 'FAILED');
});
