import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import { ProcessCluster, downloadBytes, exited, follow, smallJob, waitFor, workerStatus } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

test('fault - kill -9 of a worker mid-job: the job succeeds with the same latent, bit for bit, as without the failure', { timeout: 300_000 }, async () => {
  const workers = await Promise.all([cluster.worker('kill-w0'), cluster.worker('kill-w1')]);
  const coordinator = await cluster.coordinator('kill-coordinator', workers);
  const client = new JobClient(coordinator.address);
  try {
    const spec = smallJob(11);
    const baseline = await client.submit(spec);
    const base = await follow(client, baseline.id);
    assert.equal(base.state, 'SUCCEEDED', base.error);
    const total = Number(base.progress!.evaluations);
    const expected = await downloadBytes(client, baseline.id, cluster.dataDir);

    const victim = workers[1]!;
    const job = await client.submit(spec);
    let killedAt = -1;
    const done = await follow(client, job.id, (j) => {
      const evals = Number(j.progress?.evaluations ?? 0);
      if (killedAt < 0 && j.state === 'RUNNING' && evals >= total / 4) {
        killedAt = evals;
        victim.process.kill('SIGKILL');
      }
    });
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
