/**
 * The queue as operators ask about it: jobs waiting per priority band, what
 * each tenant has queued and running, and — on JetStream — the submission
 * consumers' own counts (pending, leased, redelivered), read at scrape time.
 * Reads are cached briefly so that one scrape (or several Prometheus
 * replicas scraping at once) costs one job listing and one consumer info per
 * band, not one per gauge.
 */
import { Gauge, type Registry } from 'prom-client';
import { PRIORITY_BANDS, priorityBand } from '../jetstream/options.ts';
import type { JobState } from '../jobs/job.ts';
import type { UnfinishedGroup } from '../jobs/ports.ts';
import type { ConsumerStats, CoordinatorMetricSources } from './sources.ts';
import { TenantLabels } from './tenant-labels.ts';


/** Unfinished states: the jobs that count towards a tenant's usage now. */
const ACTIVE_STATES: readonly JobState[] = ['QUEUED', 'RUNNING', 'ENCODING'];

/** How long one listing of unfinished jobs serves the gauges, ms. */
const JOBS_CACHE_MS = 1_000;
/** How long one read of the JetStream consumers serves the gauges, ms: scrapes come every 15 s or so. */
const CONSUMERS_CACHE_MS = 5_000;

/** A value read at most once per `ttlMs`, concurrent readers sharing the read. */
function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let at = -Infinity;
  let value: Promise<T> | undefined;
  return () => {
    const now = performance.now();
    if (!value || now - at > ttlMs) {
      at = now;
      value = read();
      // A failed read is tried again at the next scrape, not served for the whole ttl.
      value.catch(() => (value = undefined));
    }
    return value;
  };
}

/** Registers the queue gauges on `registry`; `tenants` labels the per-tenant ones. */
export function registerQueueGauges(registry: Registry, sources: () => CoordinatorMetricSources | undefined, tenants: TenantLabels): void {
  // Unfinished jobs per tenant, state and priority from the job store's index: no record is read.
  const activeJobs = cached(JOBS_CACHE_MS, async (): Promise<UnfinishedGroup[]> => (await sources()?.jobs.unfinishedGroups()) ?? []);
  new Gauge({
    name: 'propeller_queue_band_depth_jobs',
    help: 'Jobs waiting in the queue, by priority band (high: priority > 0, normal: 0, low: < 0).',
    labelNames: ['band'],
    registers: [registry],
    async collect() {
      const counts = new Map<string, number>();
      for (const g of await activeJobs()) if (g.state === 'QUEUED') counts.set(priorityBand(g.priority), (counts.get(priorityBand(g.priority)) ?? 0) + g.jobs);
      for (const band of PRIORITY_BANDS) this.set({ band }, counts.get(band) ?? 0);
    },
  });
  new Gauge({
    name: 'propeller_tenant_jobs',
    help: 'Unfinished jobs by tenant and state (QUEUED, RUNNING, ENCODING). Tenants past the first 50 share tenant="other"; jobs without authentication are tenant="anonymous".',
    labelNames: ['tenant', 'state'],
    registers: [registry],
    async collect() {
      const counts = new Map<string, number>();
      for (const g of await activeJobs()) {
        const key = `${tenants.of(g.tenant)}\n${g.state}`;
        counts.set(key, (counts.get(key) ?? 0) + g.jobs);
      }
      // Every tenant seen keeps its series (at 0), so a tenant whose jobs ended reads 0, not nothing.
      for (const tenant of tenants.seen()) for (const state of ACTIVE_STATES) this.set({ tenant, state }, counts.get(`${tenant}\n${state}`) ?? 0);
    },
  });
  const consumers = cached(CONSUMERS_CACHE_MS, async () => (await sources()?.queueStats?.()) ?? []);
  const consumerGauge = (name: string, help: string, read: (s: ConsumerStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['band'],
      registers: [registry],
      async collect() {
        this.reset();
        // A broker outage leaves the gauges empty (no fake zeros); the outage shows as propeller_discovery_up and failed calls.
        for (const s of await consumers().catch(() => [])) this.set({ band: s.band }, read(s));
      },
    });
  consumerGauge('propeller_jetstream_consumer_pending_messages', 'Submissions on JetStream not yet delivered to a coordinator, by priority band (JetStream jobs only).', (s) => s.pending);
  consumerGauge('propeller_jetstream_consumer_ack_pending_messages', 'Submissions delivered to a coordinator and not yet acknowledged (jobs held), by priority band (JetStream jobs only).', (s) => s.ackPending);
  consumerGauge('propeller_jetstream_consumer_redelivered_messages', 'Submissions delivered more than once and still held (handed over after a coordinator stopped renewing them), by band (JetStream jobs only).', (s) => s.redelivered);
}
