import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord, JobState } from '../../coordinator/jobs/job.ts';
import { JobManager } from '../../coordinator/jobs/job-manager.ts';
import { MemoryJobQueue } from '../../coordinator/jobs/memory-queue.ts';
import { MemoryJobStore } from '../../coordinator/jobs/memory-store.ts';
import { UnfinishedJobs } from '../../coordinator/jobs/unfinished-jobs.ts';
import { RECORD_SPEC } from '../helpers/job-records.ts';
import { testLog } from '../helpers/servers.ts';

/** The index of unfinished jobs per tenant behind Submit's quota check, and the quota on the in-memory store. */

const v = (state: JobState, tenant = 'alice') => ({ state, tenant });

test('unfinished jobs - counts queued and unfinished per tenant through every state', () => {
  const ix = new UnfinishedJobs();
  ix.apply('a', v('QUEUED'), 1);
  ix.apply('b', v('QUEUED'), 2);
  ix.apply('c', v('QUEUED', 'bob'), 3);
  assert.deepEqual(ix.load('alice'), { queued: 2, unfinished: 2 });
  ix.apply('a', v('RUNNING'), 4);
  ix.apply('a', v('ENCODING'), 5);
  assert.deepEqual(ix.load('alice'), { queued: 1, unfinished: 2 });
  ix.apply('a', v('SUCCEEDED'), 6);
  ix.apply('b', undefined, 7);
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 0 });
  assert.deepEqual(ix.load('bob'), { queued: 1, unfinished: 1 });
  assert.deepEqual(ix.load('nobody'), { queued: 0, unfinished: 0 });
  // No tenant (authentication off) counts under ''.
  ix.apply('d', { state: 'QUEUED' }, 8);
  assert.deepEqual(ix.load(''), { queued: 1, unfinished: 1 });
});

test('unfinished jobs - versions older than one applied are ignored: a write applied ahead of the watch stays', () => {
  const ix = new UnfinishedJobs();
  // This process claimed the job (revision 5) before its watch delivered the create (1).
  ix.apply('a', v('RUNNING'), 5, true);
  ix.apply('a', v('QUEUED'), 1);
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 1 });
  // It ended it (9) ahead of the watch, which still delivers 5 and then 9.
  ix.apply('a', v('CANCELED'), 9, true);
  ix.apply('a', v('RUNNING'), 5);
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 0 });
  ix.apply('a', v('CANCELED'), 9);
  // A later write of the job counts again (the watch reached the end: nothing is held back).
  ix.apply('a', v('QUEUED'), 12);
  assert.deepEqual(ix.load('alice'), { queued: 1, unfinished: 1 });
});

const SPEC = RECORD_SPEC;

test('tenant quota on the in-memory store - a burst is cut exactly at the limit, and a cancel frees a place, with no list', async () => {
  const store = new MemoryJobStore();
  let lists = 0;
  const list = store.list.bind(store);
  store.list = (f) => (lists++, list(f));
  // The run loops are not started: the jobs stay QUEUED.
  const jobs = new JobManager({ store, queue: new MemoryJobQueue(), render: () => new Promise(() => undefined), maxConcurrentJobs: 1, maxQueued: 100, maxQueuedPerTenant: 3, maxActivePerTenant: 4, progressIntervalMs: 0, log: testLog });
  const burst = await Promise.allSettled(Array.from({ length: 8 }, () => jobs.submit(SPEC, '', 'alice')));
  const created = burst.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  assert.equal(created.length, 3);
  for (const r of burst) if (r.status === 'rejected') assert.match((r.reason as Error).message, /^tenant "alice" has 3 jobs waiting, its limit; retry when one has started$/);
  assert.equal((await jobs.cancel(created[0]!.id)).state, 'CANCELED');
  await jobs.submit(SPEC, '', 'alice');
  await assert.rejects(jobs.submit(SPEC, '', 'alice'), /tenant "alice" has 3 jobs waiting/);
  // Unlimited without a tenant; another tenant has its own places.
  for (let i = 0; i < 5; i++) await jobs.submit(SPEC, '');
  await jobs.submit(SPEC, '', 'bob');
  // Jobs that started leave the queued count but stay unfinished.
  for (const j of created.slice(1)) {
    const started: JobRecord = { ...(await store.get(j.id))!, state: 'RUNNING' };
    await store.put(started);
  }
  assert.deepEqual(await store.tenantLoad('alice'), { queued: 1, unfinished: 3 });
  await jobs.submit(SPEC, '', 'alice');
  await assert.rejects(jobs.submit(SPEC, '', 'alice'), /tenant "alice" has 4 unfinished jobs, its limit; retry when one has finished/);
  assert.equal(lists, 0);
  await jobs.close();
});
