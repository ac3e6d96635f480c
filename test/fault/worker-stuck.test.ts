import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import { ProcessCluster, follow, smallJob, waitFor, workerStatus } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

test('fault - a worker that stops answering (SIGSTOP) costs one batch timeout: its batches are re-sent and the job succeeds', { timeout: 60_000 }, async () => {
  const workers = await Promise.all([cluster.worker('stuck-w0'), cluster.worker('stuck-w1')]);
  const timeoutMs = 1_500;
  // Stragglers would duplicate the stuck batches too, but only after 2 s; the timeout comes first.
  const coordinator = await cluster.coordinator('stuck-coordinator', workers, ['--batch-timeout-ms', String(timeoutMs)]);
  const client = new JobClient(coordinator.address);
  const victim = workers[1]!;
  try {
    let stoppedAt = -1;
    let stoppedMs = 0;
    const job = await client.submit(smallJob(12));
    const done = await follow(client, job.id, (j) => {
      const evals = Number(j.progress?.evaluations ?? 0);
      if (stoppedAt < 0 && j.state === 'RUNNING' && evals >= 100) {
        stoppedAt = evals;
        stoppedMs = Date.now();
        victim.process.kill('SIGSTOP');
      }
    });
    assert.ok(stoppedAt > 0, 'the worker was not stopped mid-job');
    assert.equal(done.state, 'SUCCEEDED', done.error);

    const log = cluster.log('stuck-coordinator');
    const timeouts = log.filter((l) => l.includes('batch failed, will retry') && /deadline/i.test(l));
    assert.ok(timeouts.length >= 1, `no batch timed out:\n${log.join('\n')}`);
    // One timeout takes the worker out: every timed-out batch was sent before it was marked suspect.
    assert.ok(timeouts.length <= 2, `${timeouts.length} batches timed out on the stuck worker (2 were in flight)`);
    assert.ok(log.some((l) => l.includes(`worker ${victim.address} serving -> suspect`)), 'the stuck worker was not marked suspect');
    const status = await workerStatus(client, victim.address);
    assert.ok(status && ['suspect', 'dead'].includes(status.state), `stuck worker shows as ${status?.state}`);
    assert.ok(Date.now() - stoppedMs >= timeoutMs);
  } finally {
    victim.process.kill('SIGCONT');
    client.close();
  }
  // Resumed, it answers heartbeats again and comes back.
  const back = new JobClient(coordinator.address);
  try {
    await waitFor('the resumed worker to serve again', 15_000, async () => ((await workerStatus(back, victim.address))?.state === 'serving' ? true : undefined));
  } finally {
    back.close();
  }
});
