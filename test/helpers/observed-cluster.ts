/**
 * A cluster as it runs on Kubernetes, watched by a real Prometheus: a
 * nats-server of the test's own (JetStream jobs and the worker announcement
 * bucket), a coordinator process and worker processes that announce
 * themselves over NATS, each serving `/metrics`, and Prometheus scraping them
 * every second with the given alert rules loaded. Used by the dashboards test
 * and the alert acceptance tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ChildServer } from '../../cli/worker-process.ts';
import { COORDINATOR_JOB, WORKER_JOB } from '../../deploy/grafana/dashboards.ts';
import { ROOT } from '../../deploy/generate.ts';
import { alertRuleGroups } from '../../deploy/prometheus/alerts.ts';
import { ProcessCluster } from './cluster.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';
import { startPrometheus, type TestPrometheus } from './prometheus.ts';

/** One alert as Prometheus's /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

export interface ObservedCluster {
  readonly nats: NatsServer;
  readonly processes: ProcessCluster;
  readonly coordinator: ChildServer;
  readonly workers: ChildServer[];
  readonly prometheus: TestPrometheus;
  /** Every alert pending or firing now. */
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

export interface ObservedClusterOptions {
  workers: number;
  /** An announcement not refreshed for this long is a lost worker, ms. */
  natsTtlMs: number;
  /** More coordinator flags (e.g. `--max-jobs 1`). */
  coordinatorFlags?: string[];
  /**
   * The rule file Prometheus loads: the shipped deploy/prometheus/alerts.yml,
   * or the same rules rendered with this `for:` (tests that watch alerts fire
   * in seconds rather than minutes).
   */
  rulesFor?: string;
}

/** Starts NATS, the coordinator, the workers (announced over NATS) and Prometheus; waits until every target is up. */
export async function startObservedCluster(opts: ObservedClusterOptions): Promise<ObservedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-observed-'));
  const nats = await startNatsServer();
  const processes = new ProcessCluster();
  let prometheus: TestPrometheus | undefined;
  const stop = async () => {
    await prometheus?.stop();
    await processes.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const bucket = `workers-${process.pid}`;
    const natsFlags = ['--nats', nats.url, '--nats-bucket', bucket];
    const metricsFlags = ['--metrics-listen', '127.0.0.1:0'];
    const coordinator = await processes.coordinator('coordinator', [], [...natsFlags, '--nats-ttl-ms', String(opts.natsTtlMs), ...metricsFlags, ...(opts.coordinatorFlags ?? [])]);
    const workers = await Promise.all(Array.from({ length: opts.workers }, (_, i) => processes.worker(`worker-${i}`, [...natsFlags, ...metricsFlags])));
    for (const c of [coordinator, ...workers]) assert.ok(c.metrics, 'every process printed its metrics address');
    let rules = join(ROOT, 'deploy/prometheus/alerts.yml');
    if (opts.rulesFor) {
      rules = join(dir, 'alerts.yml');
      writeFileSync(rules, stringify(alertRuleGroups(opts.rulesFor), { lineWidth: 0 }));
    }
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rules],
      scrape_configs: [
        { job_name: COORDINATOR_JOB, static_configs: [{ targets: [coordinator.metrics] }] },
        { job_name: WORKER_JOB, static_configs: [{ targets: workers.map((w) => w.metrics) }] },
      ],
    };
    prometheus = await startPrometheus(config, dir, 1 + workers.length);
    const api = prometheus.api;
    const alerts = async (): Promise<PromAlert[]> => {
      const body = (await (await fetch(`${api}/api/v1/alerts`)).json()) as { status: string; data: { alerts: PromAlert[] } };
      assert.equal(body.status, 'success');
      return body.data.alerts;
    };
    return { nats, processes, coordinator, workers, prometheus, alerts, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
