/**
 * Issue 18's acceptance: lost capacity raises alerts. A cluster as it runs on
 * Kubernetes (coordinator with JetStream jobs, workers announced over NATS,
 * all real processes; test/helpers/observed-cluster.ts) is scraped by a real
 * Prometheus every second with the repository's alert rules, rendered with
 * `for: 1s` instead of their minutes (the expressions are the shipped ones;
 * only the wait before firing is shortened, so each alert goes pending, then
 * firing, within seconds). Then:
 * 1. a worker is SIGKILLed: it cannot withdraw its announcement, which lapses
 *    after the TTL, and PropellerWorkerLost fires for state="lost" — while
 *    the worker's own scrape target merely goes down, as it would vanish on
 *    Kubernetes;
 * 2. every other worker stops while a job runs and another waits: no worker
 *    serves, and PropellerNoCapacity fires.
 * Bounds are generous (at least 5x the expected seconds).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobClient } from '../../cli/job-client.ts';
import { exited, smallJob, waitFor } from '../helpers/cluster.ts';
import { startObservedCluster, type ObservedCluster, type PromAlert } from '../helpers/observed-cluster.ts';

/** The announcement TTL: a killed worker is lost this long after its last refresh. */
const TTL_MS = 3_000;

describe('prometheus - alerts when workers are lost and when no capacity is left', () => {
  let cluster: ObservedCluster;
  let client: JobClient;
  const firing = async (alert: string, labels: Record<string, string> = {}): Promise<PromAlert | undefined> =>
    (await cluster.alerts()).find((a) => a.labels.alertname === alert && a.state === 'firing' && Object.entries(labels).every(([k, v]) => a.labels[k] === v));

  before(async () => {
    cluster = await startObservedCluster({ workers: 2, natsTtlMs: TTL_MS, coordinatorFlags: ['--max-jobs', '1'], rulesFor: '1s' });
    client = new JobClient(cluster.coordinator.address);
    await waitFor('both workers serving', 30_000, async () => ((await client.workers()).workers.filter((w) => w.state === 'serving').length === 2 ? true : undefined));
  });

  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('a SIGKILLed worker announced over NATS raises PropellerWorkerLost (state lost)', async () => {
    // Healthy: nothing about workers fires.
    await waitFor('the rules evaluated on a healthy cluster', 15_000, async () => ((await cluster.prometheus.query('ALERTS')).length === 0 && (await cluster.prometheus.query('propeller_workers{state="serving"} == 2')).length === 1 ? true : undefined));
    const [victim] = cluster.workers;
    victim!.process.kill('SIGKILL');
    await exited(victim!);
    // TTL (3 s) + sweep + scrape (1 s) + evaluation (1 s) + for (1 s): about 7 s.
    const alert = await waitFor('PropellerWorkerLost firing for a lost worker', 60_000, () => firing('PropellerWorkerLost', { state: 'lost' }));
    assert.equal(Number(alert.value), 1, 'one lost worker');
    assert.equal(alert.labels.severity, 'critical');
    assert.equal(alert.annotations.runbook_url, 'docs/runbooks/PropellerWorkerLost.md');
    // Lost, not merely removed: the registry no longer lists it, the metric still counts it.
    assert.ok(!(await client.workers()).workers.some((w) => w.address === victim!.address));
    const [lost] = await cluster.prometheus.query('propeller_workers{state="lost"}');
    assert.equal(lost?.value[1], '1');
    // NATS itself is fine: discovery is up, so this is a worker gone, not an outage.
    const [discovery] = await cluster.prometheus.query('propeller_discovery_up');
    assert.equal(discovery?.value[1], '1');
    assert.equal(await firing('PropellerDiscoveryDown'), undefined);
  });

  it('with every worker stopped while jobs wait, PropellerNoCapacity fires', async () => {
    assert.equal(await firing('PropellerNoCapacity'), undefined, 'not while a worker serves');
    // Long enough to outlast the workers: 60 steps of 63 windows each on one CPU worker.
    const running = await client.submit(smallJob(31, 60));
    const waiting = await client.submit(smallJob(32, 60));
    await waitFor('the first job running', 30_000, async () => ((await client.get(running.id)).state === 'RUNNING' ? true : undefined));
    await Promise.all(cluster.workers.slice(1).map((w) => w.stop()));
    const alert = await waitFor('PropellerNoCapacity firing', 60_000, () => firing('PropellerNoCapacity'));
    assert.ok(Number(alert.value) >= 1, `jobs waiting: ${alert.value}`);
    assert.equal(alert.annotations.runbook_url, 'docs/runbooks/PropellerNoCapacity.md');
    const [serving] = await cluster.prometheus.query('max(propeller_workers{state="serving"})');
    assert.equal(serving?.value[1], '0');
    await client.cancel(waiting.id);
    await client.cancel(running.id);
  });
});
