import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobState } from '../../coordinator/jobs/job.ts';
import { JobIndex, type IndexedJob } from '../../coordinator/jobs/job-index.ts';
import { MemoryJobStore } from '../../coordinator/jobs/memory-store.ts';
import { jobRecord } from '../helpers/job-records.ts';

/** The index behind counts, tenant loads, unfinished groups and List pages (coordinator/jobs/job-index.ts). */

const v = (state: JobState, createdAtMs: number, tenant = 'alice', priority = 0): IndexedJob => ({ state, createdAtMs, tenant, spec: { priority } });
const ids = (page: { id: string }[]) => page.map((c) => c.id);

test('job index - counts per state follow every version, and older versions are ignored', () => {
  const ix = new JobIndex();
  ix.apply('a', v('QUEUED', 1), 1);
  ix.apply('b', v('QUEUED', 2), 2);
  ix.apply('a', v('RUNNING', 1), 3);
  ix.apply('b', v('SUCCEEDED', 2), 4);
  // A watch delivering the older versions after the store applied its own writes.
  ix.apply('a', v('QUEUED', 1), 1);
  ix.apply('b', v('RUNNING', 2), 2);
  assert.deepEqual(ix.counts(), { QUEUED: 0, RUNNING: 1, ENCODING: 0, SUCCEEDED: 1, FAILED: 0, CANCELED: 0 });
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 1 });
  // A deletion is not undone by an older version delivered later.
  ix.apply('a', undefined, 5);
  ix.apply('a', v('RUNNING', 1), 3);
  assert.equal(ix.counts().RUNNING, 0);
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 0 });
});

test('job index - pages in List order (newest first, ties by id), filtered and after a cursor', () => {
  const ix = new JobIndex();
  // Applied out of order: the index keeps List order whatever order versions come in.
  const jobs: [string, number, JobState, string][] = [
    ['e', 30, 'QUEUED', 'bob'],
    ['a', 10, 'SUCCEEDED', 'alice'],
    ['c', 20, 'RUNNING', 'alice'],
    ['b', 20, 'QUEUED', 'alice'],
    ['d', 20, 'FAILED', 'bob'],
  ];
  jobs.forEach(([id, at, state, tenant], i) => ix.apply(id, v(state, at, tenant), i + 1));
  assert.deepEqual(ids(ix.page({}, Infinity)), ['e', 'b', 'c', 'd', 'a']);
  assert.deepEqual(ids(ix.page({}, 2)), ['e', 'b']);
  assert.deepEqual(ids(ix.page({ after: { createdAtMs: 20, id: 'b' } }, Infinity)), ['c', 'd', 'a']);
  // A cursor that names no job (it ended and left) still places the page.
  assert.deepEqual(ids(ix.page({ after: { createdAtMs: 25, id: 'zz' } }, Infinity)), ['b', 'c', 'd', 'a']);
  assert.deepEqual(ids(ix.page({ states: ['QUEUED', 'RUNNING'] }, Infinity)), ['e', 'b', 'c']);
  assert.deepEqual(ids(ix.page({ tenant: 'bob' }, Infinity)), ['e', 'd']);
  assert.deepEqual(ids(ix.page({ tenant: 'bob', states: ['FAILED'], after: { createdAtMs: 30, id: 'e' } }, 1)), ['d']);
  // A state change moves no job in the order; a deleted job leaves it.
  ix.apply('c', v('SUCCEEDED', 20, 'alice'), 10);
  ix.apply('b', undefined, 11);
  assert.deepEqual(ids(ix.page({}, Infinity)), ['e', 'c', 'd', 'a']);
  assert.deepEqual(ids(ix.page({ states: ['QUEUED', 'RUNNING'] }, Infinity)), ['e']);
});

test('job index - unfinished jobs grouped by tenant, state and priority', () => {
  const ix = new JobIndex();
  ix.apply('a', v('QUEUED', 1, 'acme', 5), 1);
  ix.apply('b', v('QUEUED', 2, 'acme', 5), 2);
  ix.apply('c', v('RUNNING', 3, 'acme', 0), 3);
  ix.apply('d', { state: 'QUEUED', createdAtMs: 4 }, 4);
  ix.apply('e', v('SUCCEEDED', 5, 'acme', 5), 5);
  const key = (g: { tenant: string; state: string }) => `${g.tenant}/${g.state}`;
  const sorted = () => ix.unfinishedGroups().sort((x, y) => (key(x) < key(y) ? -1 : 1));
  assert.deepEqual(sorted(), [
    { tenant: '', state: 'QUEUED', priority: 0, jobs: 1 },
    { tenant: 'acme', state: 'QUEUED', priority: 5, jobs: 2 },
    { tenant: 'acme', state: 'RUNNING', priority: 0, jobs: 1 },
  ]);
  ix.apply('a', v('CANCELED', 1, 'acme', 5), 6);
  ix.apply('c', v('SUCCEEDED', 3, 'acme', 0), 7);
  assert.deepEqual(sorted(), [
    { tenant: '', state: 'QUEUED', priority: 0, jobs: 1 },
    { tenant: 'acme', state: 'QUEUED', priority: 5, jobs: 1 },
  ]);
});

test('job index - records past the retention leave the counts, loads and pages; a later write keeps a job', () => {
  let now = 1_000_000;
  const ix = new JobIndex({ retentionMs: 60_000, now: () => now });
  ix.apply('old', v('SUCCEEDED', 1), 1, false, now - 50_000);
  ix.apply('queued', v('QUEUED', 2), 2, false, now - 40_000);
  ix.apply('fresh', v('SUCCEEDED', 3), 3, false, now);
  // Rewritten: its retention starts again.
  ix.apply('queued', v('QUEUED', 2), 4, false, now - 1_000);
  assert.equal(ix.counts().SUCCEEDED, 2);
  now += 10_001;
  assert.equal(ix.counts().SUCCEEDED, 1, 'old expired');
  assert.deepEqual(ids(ix.page({}, Infinity)), ['fresh', 'queued']);
  assert.deepEqual(ix.load('alice'), { queued: 1, unfinished: 1 });
  now += 60_000;
  assert.deepEqual(ix.counts(), { QUEUED: 0, RUNNING: 0, ENCODING: 0, SUCCEEDED: 0, FAILED: 0, CANCELED: 0 });
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 0 });
  assert.deepEqual(ix.page({}, Infinity), []);
});

test('job index - a job found missing is forgotten everywhere', () => {
  const ix = new JobIndex();
  ix.apply('a', v('QUEUED', 1), 1);
  ix.forget('a');
  ix.forget('never-there');
  assert.equal(ix.counts().QUEUED, 0);
  assert.deepEqual(ix.load('alice'), { queued: 0, unfinished: 0 });
  assert.deepEqual(ix.unfinishedGroups(), []);
  // A later write of it counts again.
  ix.apply('a', v('RUNNING', 1), 2);
  assert.equal(ix.counts().RUNNING, 1);
});

test('job index - the in-memory store lists, counts and pages from it, and reads nothing else', async () => {
  const store = new MemoryJobStore();
  for (let i = 0; i < 30; i++) await store.create(jobRecord(`job-${String(i).padStart(2, '0')}`, { createdAtMs: 1_000 + i, state: i % 3 === 0 ? 'QUEUED' : 'SUCCEEDED', tenant: i % 2 ? 'bob' : 'alice' }));
  assert.deepEqual(await store.counts(), { QUEUED: 10, RUNNING: 0, ENCODING: 0, SUCCEEDED: 20, FAILED: 0, CANCELED: 0 });
  const page = await store.list({ states: ['QUEUED'], tenant: 'alice', limit: 2 });
  assert.deepEqual(page.map((j) => j.id), ['job-24', 'job-18']);
  const next = await store.list({ states: ['QUEUED'], tenant: 'alice', limit: 5, after: { createdAtMs: page[1]!.createdAtMs, id: page[1]!.id } });
  assert.deepEqual(next.map((j) => j.id), ['job-12', 'job-06', 'job-00']);
  assert.equal((await store.list()).length, 30);
  assert.equal((await store.list({ limit: -1 })).length, 30, 'no limit below 1');
});
