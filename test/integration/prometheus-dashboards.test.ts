/**
 * The dashboards and alerts against a real Prometheus: an embedded cluster
 * (coordinator here, two worker processes started through the CLI with
 * `--metrics-listen`) runs a Picard job and a sequential job while Debian's
 * Prometheus scrapes it every second with the repository's alert rules
 * loaded; then every panel query and every alert signal is evaluated through
 * the HTTP API and must return data. `promtool` checks the configs and runs
 * the alert unit tests. Needs Debian's prometheus package, which npm test
 * installs through scripts/test-prepare.ts; without it this test fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../cli/embedded.ts';
import { JobClient } from '../../cli/job-client.ts';
import { COORDINATOR_JOB, DASHBOARDS, WORKER_JOB, dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { ALERTS } from '../../deploy/prometheus/alerts.ts';
import { ROOT } from '../../deploy/generate.ts';
import { referenceModelDir, testLog } from '../helpers/servers.ts';
import { follow, waitFor } from '../helpers/cluster.ts';
import { startPrometheus, type PromResult, type TestPrometheus } from '../helpers/prometheus.ts';

const run = promisify(execFile);


/** What Grafana puts in for its variables when every worker is selected. */
function grafanaExpr(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.+');
}

describe('prometheus - dashboards and alerts against a scraped cluster', () => {
  let cluster: EmbeddedCluster;
  let prometheus: TestPrometheus;
  let api: string;
  const dir = mkdtempSync(join(tmpdir(), 'propeller-prometheus-'));
  let promtool: string;
  const query = (expr: string): Promise<PromResult[]> => prometheus.query(expr);

  before(async () => {
    await referenceModelDir();
    cluster = await startEmbeddedCluster({
      workers: 2,
      modelDir: await referenceModelDir(),
      listen: '127.0.0.1:0',
      dataDir: join(dir, 'data'),
      threadsPerWorker: 1,
      log: testLog,
      workerLogLevel: 'warn',
      metricsListen: '127.0.0.1:0',
    });
    const m = cluster.metrics!;
    assert.equal(m.workers.filter(Boolean).length, 2, 'every worker printed its metrics address');
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(ROOT, 'deploy/prometheus/alerts.yml')],
      scrape_configs: [
        { job_name: COORDINATOR_JOB, static_configs: [{ targets: [m.coordinator] }] },
        { job_name: WORKER_JOB, static_configs: [{ targets: m.workers }] },
      ],
    };
    // Every target (the coordinator and two workers) scraped at least once.
    prometheus = await startPrometheus(config, dir, 3);
    api = prometheus.api;
    promtool = prometheus.promtool;
  });

  after(async () => {
    await prometheus?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('promtool passes the shipped config and rules, and the alert unit tests', async () => {
    const config = await run(promtool, ['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')]);
    assert.match(config.stdout + config.stderr, /SUCCESS/);
    const rules = await run(promtool, ['check', 'rules', join(ROOT, 'deploy/prometheus/alerts.yml')]);
    assert.match(rules.stdout + rules.stderr, new RegExp(`SUCCESS: ${ALERTS.length} rules found`));
    const tests = await run(promtool, ['test', 'rules', join(ROOT, 'deploy/prometheus/alerts.test.yml')]);
    assert.match(tests.stdout + tests.stderr, /SUCCESS/);
  });

  it('every panel of every dashboard and every alert signal returns data after a job ran while scraped', async (t) => {
    const client = new JobClient(cluster.address);
    try {
      const spec = { model: 'field-mixture', prompt: 'clouds', frames: 48, height: 256, width: 256, fps: 12, steps: 8, output: { format: 'mp4' as const } };
      const picard = await client.submit({ ...spec, seed: 1, sampler: { kind: 'picard', window: 4, tolerance: 0.1 } });
      const sequential = await client.submit({ ...spec, seed: 2 });
      const ends = await Promise.all([follow(client, picard.id), follow(client, sequential.id)]);
      assert.deepEqual(
        ends.map((j) => j.state),
        ['SUCCEEDED', 'SUCCEEDED'],
      );
    } finally {
      client.close();
    }
    // Prometheus has scraped the ends of both jobs.
    await waitFor('finished jobs scraped', 20_000, async () => {
      const r = await query('sum(propeller_jobs_completed_total{outcome="succeeded"})');
      return r[0]?.value[1] === '2' ? true : undefined;
    });

    const empty: string[] = [];
    let panels = 0;
    for (const d of DASHBOARDS) {
      for (const { panel, target } of dashboardQueries(d)) {
        panels++;
        const result = await query(grafanaExpr(target.expr));
        const finite = result.filter((r) => Number.isFinite(Number(r.value[1]))).length;
        t.diagnostic(`${d.uid} / ${panel} [${target.legend}]: ${result.length} series, ${finite} finite`);
        if (finite === 0) empty.push(`${d.uid} / ${panel}: ${target.expr} -> ${result.length} series, none finite`);
      }
    }
    assert.deepEqual(empty, [], 'panels without data');
    assert.ok(panels >= 30, `${panels} panel queries`);

    for (const a of ALERTS) {
      const signal = await query(a.signal);
      t.diagnostic(`alert ${a.alert}: signal ${signal.length} series, values ${signal.map((s) => s.value[1]).join(', ')}`);
      assert.ok(signal.length > 0, `alert ${a.alert}: its signal returns nothing: ${a.signal}`);
      // The full rule evaluates; on a healthy cluster none fires.
      assert.deepEqual(await query(`${a.signal} ${a.condition}`), [], `alert ${a.alert} fires on a healthy cluster`);
    }

    // Prometheus loaded the shipped rule file and evaluated every rule without error.
    const rules = (await (await fetch(`${api}/api/v1/rules?type=alert`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.deepEqual(loaded.map((r) => r.name).sort(), ALERTS.map((a) => a.alert).sort());
    await waitFor('every rule evaluated', 10_000, async () => {
      const now = (await (await fetch(`${api}/api/v1/rules?type=alert`)).json()) as typeof rules;
      const all = now.data.groups.flatMap((g) => g.rules);
      const bad = all.filter((r) => r.health !== 'ok');
      if (bad.some((r) => r.health === 'err')) throw new Error(`rule errors: ${bad.map((r) => `${r.name}: ${r.lastError}`).join('; ')}`);
      return bad.length === 0 ? true : undefined;
    });
  });
});
