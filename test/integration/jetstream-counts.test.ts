import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { jetStreamNames, type JetStreamJobs } from '../../coordinator/jetstream/mod.ts';
import { decodeJob } from '../../coordinator/jetstream/stored-job.ts';
import { JOB_STATES, type JobState } from '../../coordinator/jobs/job.ts';
import type { JobCounts } from '../../coordinator/jobs/ports.ts';
import { jetStreamFixture } from '../helpers/jetstream-fixture.ts';
import { jobRecord } from '../helpers/job-records.ts';

/**
 * `KvJobStore.counts()` (what the metrics scrape reads) on a real nats-server:
 * exact at once for a coordinator's own burst of writes, equal on every
 * coordinator once their watches deliver each other's, and equal again after
 * the server restarted under them (the index is reloaded).
 */
const js = jetStreamFixture('pcount');

/** Jobs per state the slow way: every record in the bucket read (on the test's own connection). */
async function truth(prefix: string): Promise<JobCounts> {
  const kv = await new Kvm(jetstream(js.nc)).open(jetStreamNames(prefix).jobs);
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for await (const key of await kv.keys('job.*')) {
    const e = await kv.get(key);
    if (e?.operation === 'PUT') counts[decodeJob(e).job.state]++;
  }
  return counts;
}

/** `n` jobs created at once on `b`, each taken through its own path of states while the others are written. */
async function burst(b: JetStreamJobs, tag: string, n: number): Promise<void> {
  const paths: JobState[][] = [[], ['RUNNING'], ['RUNNING', 'ENCODING'], ['RUNNING', 'SUCCEEDED'], ['CANCELED'], ['RUNNING', 'FAILED']];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const id = `job-${tag}-${String(i).padStart(4, '0')}`;
      await b.store.create(jobRecord(id, { createdAtMs: Date.now() - i }));
      for (const state of paths[i % paths.length]!) await b.store.update(id, (j) => ({ ...j, state }));
    }),
  );
}

/** Polls until `check` holds (the watch delivers within milliseconds; the bound is for slow machines). */
async function eventually(what: string, check: () => Promise<boolean>, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const same = async (b: JetStreamJobs, want: JobCounts) => JSON.stringify(await b.store.counts()) === JSON.stringify(want);

test('jetstream counts - exact at once for own bursts, equal on every coordinator after the watch, and after a server restart', async () => {
  const prefix = js.newPrefix();
  const [a, b] = [await js.backend(prefix), await js.backend(prefix)];

  await burst(a, 'a', 120);
  // This coordinator's own writes count as they are made: no waiting.
  assert.deepEqual(await a.store.counts(), await truth(prefix), 'a counts its own burst at once');

  await Promise.all([burst(a, 'a2', 90), burst(b, 'b', 90)]);
  const after = await truth(prefix);
  assert.equal(Object.values(after).reduce((x, y) => x + y, 0), 300);
  await eventually('a and b count what the records say', async () => (await same(a, after)) && (await same(b, after)));

  // The server restarts under both: their watches are reloaded (or resumed), and writes go on.
  await js.nats.restart();
  await eventually('b writes again once NATS is back', async () => {
    try {
      await burst(b, 'b2', 30);
      return true;
    } catch {
      return false;
    }
  });
  await eventually('a and b count what the records say after the restart', async () => {
    const want = await truth(prefix).catch(() => undefined);
    return want !== undefined && (await same(a, want).catch(() => false)) && (await same(b, want).catch(() => false));
  });
});
