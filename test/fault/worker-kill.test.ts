import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster, downloadBytes, exited, follow, followAndSignal, smallJob, waitFor, workerStatus } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

test('fault - kill -9 of a worker mid-job: the job succeeds with the same latent, bit for bit, as without the failure', { timeout: 300_000 }, async () => {
  const { workers, client } = await cluster.twoWorkers('kill');
  try {
    const spec = smallJob(11);
    const baseline = await client.submit(spec);
    const base = await follow(client, baseline.id);
    assert.equal(base.state, 'SUCCEEDED', base.error);
    const total = Number(base.progress!.evaluations);
    const expected = await downloadBytes(client, baseline.id, cluster.dataDir);

    const victim = workers[1]!;
    const job = await client.submit(spec);
    const { done, signalledAt: killedAt } = await followAndSignal(client, job.id, victim, 'SIGKILL', total / 4);
    assert.ok(killedAt > 0 && killedAt < total, `worker was not killed mid-job (at ${killedAt} of ${total} evaluations)`);
    assert.equal((await exited(victim)).signal, 'SIGKILL');
    assert.equal(done.state, 'SUCCEEDED', done.error);
    assert.equal(Number(done.progress!.evaluations), total);
    const got = await downloadBytes(client, job.id, cluster.dataDir);
    assert.equal(got.length, expected.length);
    assert.ok(got.equals(expected), 'latent differs from the run without the failure');

    const dead = await waitFor('the killed worker to be marked dead', 30_000, async () => {
      const s = await workerStatus(client, victim.address);
      return s?.state === 'dead' ? s : undefined;
    });
    assert.ok(dead.lastError.length > 0);
    assert.ok(cluster.log('kill-coordinator').some((l) => l.includes('batch failed, will retry')), 'no batch was in flight on the killed worker');
  } finally {
    client.close();
  }
});
