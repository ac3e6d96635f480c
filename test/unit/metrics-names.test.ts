import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { WorkerMetrics } from '../../worker/metrics.ts';
import { DASHBOARDS, dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { ALERTS } from '../../deploy/prometheus/alerts.ts';
import { ROOT } from '../../deploy/generate.ts';

/** name -> type of every metric a registry exports. */
async function exported(registry: Registry): Promise<Map<string, string>> {
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

async function allExported(): Promise<{ propeller: Map<string, string>; process: Map<string, string> }> {
  const propeller = new Map([...(await exported(new CoordinatorMetrics().registry)), ...(await exported(new WorkerMetrics().registry))]);
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  return { propeller, process: await exported(defaults) };
}

/** Metric names a PromQL expression reads (series selectors), with histogram suffixes resolved against `known`. */
function metricsIn(expr: string, known: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  // Identifiers that are metric names: our prefixes, the default metrics', and `up`.
  for (const m of expr.matchAll(/\b(propeller_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)) {
    const name = m[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    names.add(known.has(name) ? name : known.has(base) ? base : name);
  }
  return [...names];
}

/** Names and globs (`nodejs_*`) docs/observability.md lists as not on any dashboard. */
function readmeNotShown(): string[] {
  const readme = readFileSync(join(ROOT, 'docs/observability.md'), 'utf8');
  const start = readme.indexOf('**Not on a dashboard**');
  assert.ok(start >= 0, 'docs/observability.md has a "**Not on a dashboard**" paragraph');
  const para = readme.slice(start, readme.indexOf('\n\n', start));
  return [...para.matchAll(/`([a-z0-9_*]+)`/g)].map((m) => m[1]!);
}

const globMatch = (pattern: string, name: string) => new RegExp(`^${pattern.replace(/\*/g, '.*')}$`).test(name);

describe('metrics - names, dashboards, alerts and docs/observability.md agree', () => {
  it('every metric a dashboard or alert reads is exported by the coordinator, the worker or the default process metrics', async () => {
    const { propeller, process } = await allExported();
    const known = new Set([...propeller.keys(), ...process.keys(), 'up']);
    const missing: string[] = [];
    for (const d of DASHBOARDS) {
      for (const { panel, target } of dashboardQueries(d)) {
        const used = metricsIn(target.expr, known);
        assert.ok(used.length > 0, `${d.uid} / ${panel}: no metric found in ${target.expr}`);
        for (const n of used) if (!known.has(n)) missing.push(`${d.uid} / ${panel}: ${n}`);
      }
    }
    for (const a of ALERTS) {
      const used = metricsIn(a.signal, known);
      assert.ok(used.length > 0, `${a.alert}: no metric in ${a.signal}`);
      for (const n of used) if (!known.has(n)) missing.push(`alert ${a.alert}: ${n}`);
    }
    assert.deepEqual(missing, []);
  });

  it('every exported metric is on a dashboard or listed in docs/observability.md as not shown', async () => {
    const { propeller, process } = await allExported();
    const known = new Set([...propeller.keys(), ...process.keys()]);
    const onDashboards = new Set(DASHBOARDS.flatMap((d) => dashboardQueries(d).flatMap((q) => metricsIn(q.target.expr, known))));
    const notShown = readmeNotShown();
    const unaccounted = [...known].filter((n) => !onDashboards.has(n) && !notShown.some((p) => globMatch(p, n)));
    assert.deepEqual(unaccounted, [], 'put these on a dashboard or in the list of docs/observability.md');
    // The docs' list names nothing that is on a dashboard or exported by no one.
    for (const p of notShown) {
      assert.ok([...known].some((n) => globMatch(p, n)), `docs/observability.md lists ${p}, which no registry exports`);
      assert.ok(![...onDashboards].some((n) => p === n), `docs/observability.md lists ${p} as not shown, but a dashboard shows it`);
    }
    // Every propeller metric is on a dashboard: the docs' list is for the default process metrics.
    assert.deepEqual([...propeller.keys()].filter((n) => !onDashboards.has(n)), []);
  });

  it('propeller metrics are prefixed and carry their unit', async () => {
    const { propeller } = await allExported();
    assert.ok(propeller.size >= 30, `${propeller.size} metrics`);
    for (const [name, type] of propeller) {
      assert.match(name, /^propeller_[a-z0-9_]+$/, name);
      if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
      else assert.doesNotMatch(name, /_total$/, `${type} ${name} does not end in _total`);
      if (type === 'histogram') assert.match(name, /_(seconds|items|steps|ratio)$/, `histogram ${name} names its unit`);
      if (/duration|wait|load|stalled/.test(name)) assert.match(name, /_seconds(_total)?$/, `${name} is in seconds`);
    }
  });
});
