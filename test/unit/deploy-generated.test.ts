import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DASHBOARDS, dashboardJson, dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { GPU_DASHBOARD } from '../../deploy/grafana/gpu-dashboard.ts';
import { ALERTS } from '../../deploy/prometheus/alerts.ts';
import { ROOT, generatedFiles, staleFiles } from '../../deploy/generate.ts';

describe('deploy - generated dashboards and rules', () => {
  it('committed files match the generator (npm run gen:deploy)', () => {
    assert.deepEqual(staleFiles(), []);
  });

  it('dashboards have stable unique uids, a datasource variable, and every panel and query uses it', () => {
    const uids = DASHBOARDS.map((d) => d.uid);
    assert.deepEqual(uids, ['propeller-overview', 'propeller-jobs', 'propeller-workers']);
    for (const d of [...DASHBOARDS, GPU_DASHBOARD]) {
      const json = dashboardJson(d) as { uid: string; templating: { list: { name: string; type: string; query: unknown }[] }; panels: Record<string, unknown>[] };
      assert.equal(json.uid, d.uid);
      const ds = json.templating.list.find((v) => v.name === 'datasource');
      assert.deepEqual({ type: ds?.type, query: ds?.query }, { type: 'datasource', query: 'prometheus' });
      const ids = new Set<number>();
      for (const p of json.panels as { id: number; title: string; description: string; datasource: { uid: string }; targets: { datasource: { uid: string }; expr: string; refId: string }[]; gridPos: { x: number; w: number } }[]) {
        assert.ok(!ids.has(p.id), `${d.uid}: panel id ${p.id} repeated`);
        ids.add(p.id);
        assert.equal(p.datasource.uid, '${datasource}', `${d.uid} / ${p.title}`);
        assert.ok(p.description.length > 20, `${d.uid} / ${p.title} has a description`);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${d.uid} / ${p.title} fits the grid`);
        assert.ok(p.targets.length > 0);
        for (const t of p.targets) assert.equal(t.datasource.uid, '${datasource}');
      }
      // Variables other than the datasource are defined before queries use them ($1 in label_replace is a regex group, which Grafana leaves alone).
      const vars = new Set(json.templating.list.map((v) => v.name));
      for (const { target } of dashboardQueries(d)) {
        for (const m of target.expr.matchAll(/\$([A-Za-z_]\w*)/g)) if (!m[1]!.startsWith('__')) assert.ok(vars.has(m[1]!), `${d.uid}: $${m[1]} is not a variable`);
      }
    }
  });

  it('the dashboards ConfigMap carries the same JSON for the Grafana sidecar, and the PrometheusRule the same rules', () => {
    const files = generatedFiles();
    const cm = parse(files.get('deploy/kubernetes/grafana-dashboards.yaml')!) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(cm.metadata.labels['grafana_dashboard'], '1');
    assert.deepEqual(Object.keys(cm.data).sort(), [...DASHBOARDS, GPU_DASHBOARD].map((d) => `${d.uid}.json`).sort());
    for (const d of [...DASHBOARDS, GPU_DASHBOARD]) {
      assert.equal(cm.data[`${d.uid}.json`], readFileSync(join(ROOT, `deploy/grafana/dashboards/${d.uid}.json`), 'utf8'));
    }
    const rule = parse(files.get('deploy/kubernetes/prometheus-rules.yaml')!) as { spec: unknown };
    assert.deepEqual(rule.spec, parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')));
    const names = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups[0]!.rules.map((r) => r.alert);
    assert.deepEqual(names, ALERTS.map((a) => a.alert));
    for (const want of ['PropellerWorkerDown', 'PropellerQueueBacklog', 'PropellerBatchErrorRate', 'PropellerJobStuck']) assert.ok(names.includes(want), want);
  });

  it('Grafana provisioning points at the dashboards folder and a Prometheus data source', () => {
    const ds = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: { type: string; uid: string }[] };
    assert.deepEqual(ds.datasources.map((d) => d.type), ['prometheus']);
    const dash = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/propeller.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    assert.equal(dash.providers[0]!.type, 'file');
    // compose mounts deploy/grafana/dashboards there.
    const compose = readFileSync(join(ROOT, 'deploy/docker/compose.yaml'), 'utf8');
    assert.ok(compose.includes(`../grafana/dashboards:${dash.providers[0]!.options.path}:ro`));
  });
});
