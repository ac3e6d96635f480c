import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster, exited, followAndSignal, smallJob, workerStatus } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

test('fault - SIGTERM of a worker mid-job: it drains its in-flight batches and exits 0, the coordinator stops sending to it, the job succeeds', { timeout: 180_000 }, async () => {
  const { workers, client } = await cluster.twoWorkers('drain');
  const victim = workers[1]!;
  try {
    const job = await client.submit(smallJob(15));
    const gone = exited(victim);
    const { done, signalledAt: termAt } = await followAndSignal(client, job.id, victim, 'SIGTERM');
    assert.ok(termAt > 0, 'the worker was not stopped mid-job');
    assert.equal(done.state, 'SUCCEEDED', done.error);
    assert.deepEqual(await gone, { code: 0, signal: null }, 'the worker did not exit 0 after draining');

    const workerLog = cluster.log('drain-w1');
    assert.ok(workerLog.some((l) => l.includes('state serving -> draining')));
    assert.ok(workerLog.some((l) => l.includes('state draining -> stopped')));
    // Batches in flight at SIGTERM were answered: the only failures the
    // coordinator saw are refusals of new calls — by the draining service,
    // by the gRPC server shutting down ("Stream refused") or, once the
    // worker is gone, refused connections — never a cut-off or timed-out call.
    const failures = cluster.log('drain-coordinator').filter((l) => l.includes('batch failed, will retry'));
    for (const f of failures) assert.match(f, /worker is draining|Stream refused by server|ECONNREFUSED|No connection established/, `a batch failed for another reason: ${f}`);
    const status = await workerStatus(client, victim.address);
    assert.ok(status && ['draining', 'dead'].includes(status.state), `drained worker shows as ${status?.state}`);
    // Everything the job needed after the drain came from the other worker.
    const other = await workerStatus(client, workers[0]!.address);
    assert.equal(Number(other!.evaluations) + Number(status!.evaluations), Number(done.progress!.evaluations));
    assert.ok(Number(status!.evaluations) > 0 && Number(status!.evaluations) < Number(done.progress!.evaluations));
  } finally {
    client.close();
  }
});
