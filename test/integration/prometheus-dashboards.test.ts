/**
 * The dashboards and alerts against a real Prometheus: a cluster as it runs
 * on Kubernetes (a coordinator process with JetStream jobs, two worker
 * processes announced over NATS, each with `--metrics-listen`; a nats-server
 * of this file's own; test/helpers/observed-cluster.ts) runs a Picard job and
 * a sequential job, refuses a bad Submit and cancels a job while it is
 * queued, while Debian's Prometheus scrapes it every second with the
 * repository's alert rules loaded; then every panel query and every alert
 * signal is evaluated through the HTTP API and must return data. `promtool`
 * checks the configs and runs the alert unit tests. Needs Debian's prometheus
 * and nats-server packages, which npm test installs through
 * scripts/test-prepare.ts; without them this test fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { JobClient } from '../../cli/job-client.ts';
import { DASHBOARDS, dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { ALERTS } from '../../deploy/prometheus/alerts.ts';
import { ROOT } from '../../deploy/generate.ts';
import { follow, waitFor } from '../helpers/cluster.ts';
import { startObservedCluster, type ObservedCluster } from '../helpers/observed-cluster.ts';
import type { PromResult } from '../helpers/prometheus.ts';

const run = promisify(execFile);

/** What Grafana puts in for its variables when every worker is selected. */
function grafanaExpr(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.+');
}

describe('prometheus - dashboards and alerts against a scraped cluster', () => {
  let cluster: ObservedCluster;
  let api: string;
  let promtool: string;
  const query = (expr: string): Promise<PromResult[]> => cluster.prometheus.query(expr);

  before(async () => {
    // One run slot: the second job waits in the queue, and a third can be canceled there.
    cluster = await startObservedCluster({ workers: 2, natsTtlMs: 10_000, coordinatorFlags: ['--max-jobs', '1'] });
    api = cluster.prometheus.api;
    promtool = cluster.prometheus.promtool;
  });

  after(async () => {
    await cluster?.stop();
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
    const client = new JobClient(cluster.coordinator.address);
    try {
      const spec = { model: 'field-mixture', prompt: 'clouds', frames: 48, height: 256, width: 256, fps: 12, steps: 8, output: { format: 'mp4' as const } };
      // A Submit the coordinator refuses (INVALID_ARGUMENT): propeller_submit_rejections_total.
      await assert.rejects(client.submit({ ...spec, seed: 3, model: 'no-such-model' }), /no-such-model/);
      const picard = await client.submit({ ...spec, seed: 1, sampler: { kind: 'picard', window: 4, tolerance: 0.1 } });
      const sequential = await client.submit({ ...spec, seed: 2 });
      // Behind the two in the queue, canceled before it runs: propeller_jobs_canceled_queued_total.
      const doomed = await client.submit({ ...spec, seed: 4 });
      assert.equal((await client.cancel(doomed.id)).state, 'CANCELED');
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
      const [done] = await query('sum(propeller_jobs_completed_total{outcome="succeeded"})');
      const [canceled] = await query('sum(propeller_jobs_canceled_queued_total)');
      const [refused] = await query('sum(propeller_submit_rejections_total{code="INVALID_ARGUMENT"})');
      return done?.value[1] === '2' && canceled?.value[1] === '1' && refused?.value[1] === '1' ? true : undefined;
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
