import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { JobClient } from '../../cli/job-client.ts';
import { exited, follow, smallJob, waitFor } from '../helpers/cluster.ts';
import { natsProcessCluster } from '../helpers/nats-cluster.ts';

/**
 * Worker discovery through a real NATS server (JetStream KV) this file
 * starts; without nats-server this test fails, it never skips. The server
 * and its store go away with the file, bucket included.
 *
 * Why a worker was dropped is read from the coordinator's log (a deleted key
 * or a stale entry), not inferred from how long it took: waits are bounds of
 * 5x or more what they take on a loaded machine, never assertions.
 */
const bucket = `propeller-test-${process.pid}-${randomBytes(4).toString('hex')}`;
const fixture = natsProcessCluster();
const { cluster } = fixture;

test('nats - workers that start later are picked up, workers that stop are dropped, at runtime', { timeout: 180_000 }, async () => {
  const ttlMs = 4_000;
  const natsFlags = ['--nats', fixture.nats.url, '--nats-bucket', bucket];
  const coordinator = await cluster.coordinator('nats-coordinator', [], [...natsFlags, '--nats-ttl-ms', String(ttlMs)]);
  const client = new JobClient(coordinator.address);
  const listed = async () => (await client.workers()).workers;
  const gone = (address: string) => cluster.log('nats-coordinator').filter((l) => l.includes('worker gone from NATS') && l.includes(address));
  try {
    assert.deepEqual(await listed(), []);

    // A worker started after the coordinator appears and serves a job.
    const w0 = await cluster.worker('nats-w0', natsFlags);
    const first = await waitFor('the first worker to be discovered', 30_000, async () => (await listed()).find((w) => w.address === w0.address && w.state === 'serving'));
    assert.equal(first.id, 'nats-w0');
    assert.equal(first.device, 'cpu');
    assert.ok(first.models.includes('field-mixture'));
    const job = await client.submit(smallJob(21, 3, { frames: 32, height: 128, width: 128 }));
    const done = await follow(client, job.id);
    assert.equal(done.state, 'SUCCEEDED', done.error);

    // A second one joins; killed without a chance to withdraw, it is dropped once its entry goes stale.
    const w1 = await cluster.worker('nats-w1', natsFlags);
    await waitFor('the second worker to be discovered', 30_000, async () => ((await listed()).some((w) => w.address === w1.address && w.state === 'serving') ? true : undefined));
    w1.process.kill('SIGKILL');
    await exited(w1);
    await waitFor('the killed worker to be dropped', 5 * ttlMs, async () => ((await listed()).some((w) => w.address === w1.address) ? undefined : true));
    // Dropped because its entry went stale, as the coordinator's log says (timing the drop raced a busy machine's refreshes).
    assert.ok(gone(w1.address).some((l) => l.includes('not refreshed for')), `the killed worker was not dropped as stale: ${gone(w1.address).join('\n')}`);

    // SIGTERM: the worker deletes its entry when it starts draining and is dropped for that, not by expiry.
    await w0.stop();
    await waitFor('the drained worker to be dropped', 5 * ttlMs, async () => ((await listed()).length === 0 ? true : undefined));
    const drained = gone(w0.address);
    assert.ok(drained.length === 1 && drained[0]!.includes('key deleted'), `the drained worker was not dropped for its deleted key: ${drained.join('\n')}`);
  } finally {
    client.close();
  }
});
