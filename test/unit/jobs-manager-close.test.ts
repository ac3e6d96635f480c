import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobManager } from '../../coordinator/jobs/job-manager.ts';
import { MemoryJobQueue } from '../../coordinator/jobs/memory-queue.ts';
import { MemoryJobStore } from '../../coordinator/jobs/memory-store.ts';
import { RECORD_SPEC } from '../helpers/job-records.ts';
import { testLog } from '../helpers/servers.ts';

const SPEC = RECORD_SPEC;

test('job manager - close() while a job is being claimed stops that job too instead of waiting for its end', async () => {
  const store = new MemoryJobStore();
  // The claim (RUNNING) write waits until the test lets it go: close() comes in between.
  let release!: () => void;
  const claimed = new Promise<void>((r) => (release = r));
  let claiming!: () => void;
  const claimingStarted = new Promise<void>((r) => (claiming = r));
  const update = store.update.bind(store);
  store.update = async (...args: Parameters<typeof store.update>) => {
    claiming();
    await claimed;
    return update(...args);
  };
  let aborted: unknown;
  // A render that ends only when its job is aborted (as the real one checks its signal first).
  const render = (_job: unknown, _report: unknown, signal: AbortSignal) =>
    new Promise<never>((_, reject) => {
      const stop = () => {
        aborted = signal.reason;
        reject(signal.reason);
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop);
    });
  const jobs = new JobManager({ store, queue: new MemoryJobQueue(), render: render as never, maxConcurrentJobs: 1, maxQueued: 10, progressIntervalMs: 0, log: testLog });
  jobs.start();
  await jobs.submit(SPEC, '');
  await claimingStarted;
  const closing = jobs.close();
  release();
  // With the job left running, close() would never resolve.
  const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
  assert.equal(outcome, 'closed');
  assert.match(String(aborted), /shutting down/);
});
