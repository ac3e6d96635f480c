/**
 * The coordinator's view of its workers and the wire, read at scrape time
 * from the worker registry, NATS discovery and the dispatcher: workers by
 * state (lost ones included), whether discovery can see announcements,
 * calls in flight, evaluations per worker, the backlog of window
 * evaluations waiting for a worker, retries, duplicates and wire bytes.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { WORKER_HEALTH_STATES } from '../cluster/worker-registry.ts';
import type { CoordinatorMetricSources } from './sources.ts';

/** Every `state` of `propeller_workers`: the registry's states, and `lost` (gone without a drain, nats-registry.ts). */
export const WORKER_METRIC_STATES = [...WORKER_HEALTH_STATES, 'lost'] as const;

/** Registers the cluster gauges on `registry`; `sources` is read at every scrape. */
export function registerClusterGauges(registry: Registry, sources: () => CoordinatorMetricSources | undefined): void {
  const workers = () => sources()?.registry.all() ?? [];
  new Gauge({
    name: 'propeller_workers',
    help: "Workers in the coordinator's registry by state (unknown, serving, suspect, draining, dead), and lost: gone without a drain (announcement lapsed) within the lost retention (--nats-lost-retention-ms, default 1 h).",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>();
      for (const w of workers()) counts.set(w.state, (counts.get(w.state) ?? 0) + 1);
      counts.set('lost', sources()?.discovery?.lost().length ?? 0);
      for (const s of WORKER_METRIC_STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  new Gauge({
    name: 'propeller_discovery_up',
    help: 'Whether worker discovery can see announcements (1) or not (0: NATS unreachable; known workers stay as they are), by source. Absent without NATS discovery.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      const discovery = sources()?.discovery;
      if (discovery) this.set({ source: 'nats' }, discovery.up() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'propeller_dispatch_backlog_items',
    help: 'Window evaluations waiting in the dispatcher for a free worker (not yet sent), by model.',
    labelNames: ['model'],
    registers: [registry],
    collect() {
      this.reset();
      const s = sources();
      if (!s) return;
      const backlog = s.dispatcher.backlog();
      // Every known model, so an empty backlog reads 0 rather than nothing.
      for (const model of new Set([...s.registry.modelNames(), ...backlog.keys()])) this.set({ model }, backlog.get(model) ?? 0);
    },
  });
  new Gauge({
    name: 'propeller_worker_in_flight_batches',
    help: 'Calls in flight to each worker, as the coordinator counts them.',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of workers()) this.set({ worker: w.id }, w.inFlight);
    },
  });
  new Counter({
    name: 'propeller_worker_evaluations_total',
    help: 'Window evaluations each worker answered, as the coordinator counts them.',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of workers()) this.inc({ worker: w.id }, w.evaluations);
    },
  });
  const wireCounter = (name: string, help: string, read: (wire: CoordinatorMetricSources['dispatcher']['wire']) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const wire = sources()?.dispatcher.wire;
        this.inc(wire ? read(wire) : 0);
      },
    });
  wireCounter('propeller_dispatch_retries_total', 'Micro-batches that failed or timed out and went back to the queue for another worker.', (w) => w.retries);
  wireCounter('propeller_dispatch_duplicates_total', 'Slow micro-batches sent again to an idle worker (stragglers).', (w) => w.duplicates);
  new Counter({
    name: 'propeller_wire_bytes_total',
    help: 'Latent tensor bytes on the wire to and from workers, by direction (sent, received).',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      const wire = sources()?.dispatcher.wire;
      this.inc({ direction: 'sent' }, wire?.sentBytes ?? 0);
      this.inc({ direction: 'received' }, wire?.receivedBytes ?? 0);
    },
  });
}
