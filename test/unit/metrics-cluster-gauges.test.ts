import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Registry } from 'prom-client';
import { LostWorkers } from '../../coordinator/cluster/lost-workers.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import type { ConsumerStats, CoordinatorMetricSources } from '../../coordinator/metrics/sources.ts';
import { TenantLabels } from '../../coordinator/metrics/tenant-labels.ts';
import type { JobRecord } from '../../coordinator/jobs/job.ts';
import type { UnfinishedGroup } from '../../coordinator/jobs/ports.ts';

/** The value of one series of a scraped registry, by its labels (undefined when absent). */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want));
  return found?.value;
}

/** One job of a tenant ('' without authentication), state and priority, as the store's index groups them. */
const job = (state: JobRecord['state'], priority: number, tenant = ''): UnfinishedGroup => ({ state, tenant, priority, jobs: 1 });

/** Scrape-time sources faked in memory: a unit test of the gauges, not of the parts. */
function sources(over: Partial<CoordinatorMetricSources> = {}): CoordinatorMetricSources {
  return {
    jobs: { counts: async () => ({}) as never, unfinishedGroups: async () => [] },
    registry: { all: () => [], modelNames: () => [] },
    dispatcher: { wire: { sentBytes: 0, receivedBytes: 0, retries: 0, duplicates: 0 }, backlog: () => new Map() },
    ...over,
  } as CoordinatorMetricSources;
}

describe('metrics - lost workers are remembered for their retention', () => {
  it('records, forgets on return, and drops after the retention', () => {
    let now = 1_000;
    const lost = new LostWorkers(60_000, () => now);
    lost.record({ address: 'a:1', id: 'w-a', device: 'cpu' }, 'not refreshed for 10400 ms');
    lost.record({ address: 'b:1', id: 'w-b', device: 'cuda:0' }, 'not refreshed for 10300 ms');
    assert.deepEqual(lost.list().map((l) => [l.id, l.reason, l.lostAtMs]), [['w-a', 'not refreshed for 10400 ms', 1_000], ['w-b', 'not refreshed for 10300 ms', 1_000]]);
    lost.found('b:1');
    assert.deepEqual(lost.list().map((l) => l.address), ['a:1']);
    now += 60_000;
    assert.equal(lost.list().length, 1, 'kept for the whole retention');
    now += 1;
    assert.deepEqual(lost.list(), []);
  });
});

describe('metrics - tenant labels have bounded cardinality', () => {
  it('names the first tenants, folds the rest into other, and calls no tenant anonymous', () => {
    const labels = new TenantLabels(2);
    assert.equal(labels.of(''), 'anonymous');
    assert.equal(labels.of('acme'), 'acme');
    assert.equal(labels.of('globex'), 'other');
    assert.equal(labels.of('acme'), 'acme');
    assert.equal(labels.of(undefined), 'anonymous');
    assert.deepEqual(labels.seen(), ['anonymous', 'acme']);
  });
});

describe('metrics - cluster and queue gauges read their sources at scrape time', () => {
  it('counts lost workers as a state and says whether discovery sees announcements', async () => {
    const m = new CoordinatorMetrics();
    let up = true;
    const lostList = [{ address: 'x:1', id: 'w-x', device: 'cpu', reason: 'not refreshed', lostAtMs: 0 }];
    m.observe(sources({ registry: { all: () => [{ state: 'serving', id: 'w0', inFlight: 0, evaluations: 0 }, { state: 'dead', id: 'w1', inFlight: 0, evaluations: 0 }] as never, modelNames: () => [] }, discovery: { up: () => up, lost: () => lostList } }));
    assert.equal(await value(m.registry, 'propeller_workers', { state: 'lost' }), 1);
    assert.equal(await value(m.registry, 'propeller_workers', { state: 'serving' }), 1);
    assert.equal(await value(m.registry, 'propeller_workers', { state: 'dead' }), 1);
    assert.equal(await value(m.registry, 'propeller_discovery_up', { source: 'nats' }), 1);
    up = false;
    assert.equal(await value(m.registry, 'propeller_discovery_up', { source: 'nats' }), 0);
  });

  it('has no discovery series without NATS discovery, and a backlog of 0 for every known model', async () => {
    const m = new CoordinatorMetrics();
    m.observe(sources({ registry: { all: () => [], modelNames: () => ['field-mixture', 'tiny'] }, dispatcher: { wire: { sentBytes: 0, receivedBytes: 0, retries: 0, duplicates: 0 }, backlog: () => new Map([['tiny', 42]]) } }));
    assert.equal(await value(m.registry, 'propeller_discovery_up'), undefined);
    assert.equal(await value(m.registry, 'propeller_dispatch_backlog_items', { model: 'field-mixture' }), 0);
    assert.equal(await value(m.registry, 'propeller_dispatch_backlog_items', { model: 'tiny' }), 42);
  });

  it('counts queued jobs by priority band and unfinished jobs by tenant, from the store index of unfinished jobs', async () => {
    const m = new CoordinatorMetrics();
    let asked = 0;
    const jobs = [job('QUEUED', 5, 'acme'), job('QUEUED', 0, 'acme'), job('QUEUED', -3), job('RUNNING', 0, 'globex')];
    m.observe(sources({ jobs: { counts: async () => ({}) as never, unfinishedGroups: async () => (asked++, jobs) } }));
    assert.equal(await value(m.registry, 'propeller_queue_band_depth_jobs', { band: 'high' }), 1);
    assert.equal(await value(m.registry, 'propeller_queue_band_depth_jobs', { band: 'normal' }), 1);
    assert.equal(await value(m.registry, 'propeller_queue_band_depth_jobs', { band: 'low' }), 1);
    assert.equal(await value(m.registry, 'propeller_tenant_jobs', { tenant: 'acme', state: 'QUEUED' }), 2);
    assert.equal(await value(m.registry, 'propeller_tenant_jobs', { tenant: 'anonymous', state: 'QUEUED' }), 1);
    assert.equal(await value(m.registry, 'propeller_tenant_jobs', { tenant: 'globex', state: 'RUNNING' }), 1);
    assert.equal(await value(m.registry, 'propeller_tenant_jobs', { tenant: 'globex', state: 'QUEUED' }), 0);
    assert.equal(asked, 1, 'one read serves both gauges');
  });

  it('reads the JetStream consumers once for several scrapes close together', async () => {
    const m = new CoordinatorMetrics();
    let reads = 0;
    const stats: ConsumerStats[] = [{ band: 'normal', pending: 7, ackPending: 2, redelivered: 1 }];
    m.observe(sources({ queueStats: async () => (reads++, stats) }));
    await m.registry.metrics();
    await m.registry.metrics();
    assert.equal(reads, 1, 'one consumer read serves the three gauges and both scrapes');
    assert.equal(await value(m.registry, 'propeller_jetstream_consumer_pending_messages', { band: 'normal' }), 7);
    assert.equal(await value(m.registry, 'propeller_jetstream_consumer_ack_pending_messages', { band: 'normal' }), 2);
    assert.equal(await value(m.registry, 'propeller_jetstream_consumer_redelivered_messages', { band: 'normal' }), 1);
  });

  it('leaves the JetStream gauges empty when the consumers cannot be read', async () => {
    const m = new CoordinatorMetrics();
    m.observe(sources({ queueStats: async () => Promise.reject(new Error('NATS is down')) }));
    assert.equal(await value(m.registry, 'propeller_jetstream_consumer_pending_messages'), undefined);
  });
});
