/**
 * A NATS outage is not a lost cluster: with the NATS server of this file
 * halted, the coordinator cannot see worker announcements, so none can be
 * refreshed — it keeps the workers it still reaches serving, says discovery
 * is down (`propeller_discovery_up 0`) and counts no worker lost. Once NATS
 * is back, discovery is up again and the worker's refreshed announcement is
 * seen (it is not lost a TTL later). Real processes: a coordinator and a
 * worker through the CLI, a nats-server the test starts.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { JobClient } from '../../cli/job-client.ts';
import { ProcessCluster, waitFor } from '../helpers/cluster.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';

const TTL_MS = 2_000;

/** The value of one sample line of a /metrics page (`name{labels} value`), or undefined. */
async function sample(metricsAddress: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics - a NATS outage marks discovery down and loses no worker', () => {
  const cluster = new ProcessCluster();
  let nats: NatsServer;
  let client: JobClient;
  let metrics: string;
  let worker: string;

  before(async () => {
    nats = await startNatsServer();
    const natsFlags = ['--nats', nats.url, '--nats-bucket', `outage-${process.pid}`];
    const coordinator = await cluster.coordinator('coordinator', [], [...natsFlags, '--jobs', 'memory', '--nats-ttl-ms', String(TTL_MS), '--metrics-listen', '127.0.0.1:0']);
    metrics = coordinator.metrics!;
    worker = (await cluster.worker('w0', natsFlags)).address;
    client = new JobClient(coordinator.address);
    await waitFor('the worker discovered', 30_000, async () => ((await client.workers()).workers.some((w) => w.address === worker && w.state === 'serving') ? true : undefined));
  });

  after(async () => {
    client?.close();
    await cluster.stop();
    await nats?.stop();
  });

  it('keeps the reachable worker serving through the outage and sees it again after', async () => {
    assert.equal(await sample(metrics, 'propeller_discovery_up{source="nats"}'), 1);
    await nats.halt();
    await waitFor('discovery marked down', 30_000, async () => ((await sample(metrics, 'propeller_discovery_up{source="nats"}')) === 0 ? true : undefined));
    // Three TTLs without a refresh: before, this dropped every worker.
    await sleep(3 * TTL_MS);
    assert.deepEqual((await client.workers()).workers.map((w) => [w.address, w.state]), [[worker, 'serving']]);
    assert.equal(await sample(metrics, 'propeller_workers{state="lost"}'), 0);
    assert.equal(await sample(metrics, 'propeller_workers{state="serving"}'), 1);
    assert.ok(cluster.log('coordinator').some((l) => l.includes('NATS discovery is down')));

    await nats.resume();
    await waitFor('discovery back up', 60_000, async () => ((await sample(metrics, 'propeller_discovery_up{source="nats"}')) === 1 ? true : undefined));
    // Past a TTL after reconnecting, the worker's refreshed announcement has been seen: it is still there, not lost.
    await sleep(3 * TTL_MS);
    assert.deepEqual((await client.workers()).workers.map((w) => [w.address, w.state]), [[worker, 'serving']]);
    assert.equal(await sample(metrics, 'propeller_workers{state="lost"}'), 0);
  });
});
