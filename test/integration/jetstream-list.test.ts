import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { listPage } from '../../coordinator/api/list-page.ts';
import type { JobRecord, JobState } from '../../coordinator/jobs/job.ts';
import { jetStreamFixture } from '../helpers/jetstream-fixture.ts';
import { jobRecord } from '../helpers/job-records.ts';

/**
 * `KvJobStore.list` on a real nats-server while records change: each job
 * once, newest first (ties by id), and cursor pages that cover every job
 * exactly once while new jobs arrive between pages.
 */
const js = jetStreamFixture('plist');

/** A QUEUED record; `createdAtMs` is given so ties are certain. */
function record(id: string, createdAtMs: number): JobRecord {
  return jobRecord(id, { spec: { model: 'field-mixture' } as never, createdAtMs });
}

/** Newest first by creation time, ties by id. */
function assertOrdered(jobs: readonly JobRecord[], what: string): void {
  for (let i = 1; i < jobs.length; i++) {
    const a = jobs[i - 1]!;
    const b = jobs[i]!;
    assert.ok(a.createdAtMs > b.createdAtMs || (a.createdAtMs === b.createdAtMs && a.id < b.id), `${what}: ${a.id}@${a.createdAtMs} listed before ${b.id}@${b.createdAtMs}`);
  }
}

const CYCLE: JobState[] = ['RUNNING', 'ENCODING', 'SUCCEEDED', 'QUEUED'];

test('jetstream list - each job once and in order while every record is rewritten', async () => {
  const { store } = await js.backend(js.newPrefix());
  const base = Date.now();
  const ids: string[] = [];
  // 64 jobs over 16 creation times: four share each millisecond, so ties are ordered by id.
  for (let i = 0; i < 64; i++) {
    const id = `job-${String(i).padStart(3, '0')}-${randomBytes(2).toString('hex')}`;
    ids.push(id);
    await store.create(record(id, base + Math.floor(i / 4)));
  }
  let writing = true;
  const writers = ids.map(async (id, i) => {
    for (let n = i; writing; n++) {
      await store.update(id, (j) => ({ ...j, state: CYCLE[n % CYCLE.length]!, progress: { ...j.progress, step: n } }));
    }
  });
  try {
    for (let round = 0; round < 60; round++) {
      const jobs = await store.list();
      const seen = new Map<string, number>();
      for (const j of jobs) seen.set(j.id, (seen.get(j.id) ?? 0) + 1);
      const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      assert.deepEqual(twice, [], `list ${round} returned ${twice.length} jobs more than once`);
      assert.equal(jobs.length, ids.length, `list ${round}`);
      assertOrdered(jobs, `list ${round}`);
    }
  } finally {
    writing = false;
    await Promise.all(writers);
  }
});

test('jetstream list - pages cover every job once while jobs are created and rewritten between pages', async () => {
  const { store } = await js.backend(js.newPrefix());
  const base = Date.now();
  const first: string[] = [];
  for (let i = 0; i < 61; i++) {
    const id = `job-a${String(i).padStart(3, '0')}`;
    first.push(id);
    await store.create(record(id, base + Math.floor(i / 3)));
  }
  let writing = true;
  const writers = first.slice(0, 20).map(async (id, i) => {
    for (let n = i; writing; n++) await store.update(id, (j) => ({ ...j, state: CYCLE[n % CYCLE.length]!, progress: { ...j.progress, step: n } }));
  });
  const seen: JobRecord[] = [];
  let created = 0;
  try {
    let pageToken = '';
    do {
      const page = await listPage((f) => store.list(f), { states: [], limit: 0, pageSize: 8, pageToken });
      assert.ok(page.jobs.length <= 8);
      seen.push(...page.jobs);
      pageToken = page.nextPageToken;
      // Newer jobs (and one with the cursor's own creation time) arrive before the next page.
      await store.create(record(`job-b${String(created++).padStart(3, '0')}`, Date.now() + 1000));
    } while (pageToken);
  } finally {
    writing = false;
    await Promise.all(writers);
  }
  assert.deepEqual(
    seen.map((j) => j.id).sort(),
    [...first].sort(),
    'the pages hold every job that existed at the first page, once',
  );
  assertOrdered(seen, 'pages');
  assert.equal((await store.list()).length, first.length + created);
});
