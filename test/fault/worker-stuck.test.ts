import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import { ProcessCluster, followAndSignal, smallJob, waitFor, workerStatus } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

test('fault - a worker that stops answering (SIGSTOP): its batches are re-sent (duplicated early on the idle worker, or after one batch timeout) and the job succeeds', { timeout: 300_000 }, async () => {
  // At least 5x a healthy batch on a busy 2-core machine (well under a second), so only the frozen worker's calls time out.
  const timeoutMs = 5_000;
  const { workers, coordinator, client } = await cluster.twoWorkers('stuck', ['--batch-timeout-ms', String(timeoutMs)]);
  const victim = workers[1]!;
  try {
    const job = await client.submit(smallJob(12));
    const { done, signalledAt: stoppedAt } = await followAndSignal(client, job.id, victim, 'SIGSTOP');
    assert.ok(stoppedAt > 0, 'the worker was not stopped mid-job');
    assert.equal(done.state, 'SUCCEEDED', done.error);

    // The batches it holds are re-sent: duplicated on the idle worker as soon as
    // they are overdue against the stuck worker's measured pace, or when they time out.
    const log = cluster.log('stuck-coordinator');
    const timedOut = (l: string) => l.includes('batch failed, will retry') && l.includes(`worker ${victim.address}:`) && /deadline/i.test(l);
    const resent = log.filter((l) => (l.includes('straggler: duplicating') && l.includes(`slow=${victim.address}`)) || timedOut(l));
    assert.ok(resent.length >= 1, `no batch of the stuck worker was re-sent:\n${log.join('\n')}`);
    // Its calls in flight time out (one timeout takes it out: at most the 2 in flight), and it is marked suspect.
    await waitFor('the stuck worker to be marked suspect', 6 * timeoutMs, () => (cluster.log('stuck-coordinator').some((l) => l.includes(`worker ${victim.address} serving -> suspect`)) ? true : undefined));
    const timeouts = cluster.log('stuck-coordinator').filter(timedOut);
    assert.ok(timeouts.length <= 2, `${timeouts.length} batches timed out on the stuck worker (2 were in flight)`);
    const status = await workerStatus(client, victim.address);
    assert.ok(status && ['suspect', 'dead'].includes(status.state), `stuck worker shows as ${status?.state}`);
  } finally {
    victim.process.kill('SIGCONT');
    client.close();
  }
  // Resumed, it answers heartbeats again and comes back.
  const back = new JobClient(coordinator.address);
  try {
    await waitFor('the resumed worker to serve again', 30_000, async () => ((await workerStatus(back, victim.address))?.state === 'serving' ? true : undefined));
  } finally {
    back.close();
  }
});
