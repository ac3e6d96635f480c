/** Grafana dashboard JSON of a dashboard spec (dashboards.ts). */
import { DS, type DashboardSpec } from './panel-spec.ts';

/** Grafana dashboard JSON (schema 39) of a spec: panels laid out left to right, three per row by default. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  const h = 8;
  const panels = d.panels.map((p, i) => {
    const w = p.width ?? 8;
    if (x + w > 24) {
      x = 0;
      y += h;
    }
    const gridPos = { h, w, x, y };
    x += w;
    const type = p.type ?? 'timeseries';
    return {
      id: i + 1,
      type,
      title: p.title,
      description: p.description,
      datasource: DS,
      gridPos,
      fieldConfig: {
        defaults: {
          unit: p.unit ?? 'short',
          ...(type === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: p.stack ? 30 : 10, stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' } } } : {}),
        },
        overrides: [],
      },
      options: type === 'timeseries' ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } } : {},
      targets: p.targets.map((t, j) => ({
        datasource: DS,
        refId: String.fromCharCode(65 + j),
        expr: t.expr,
        legendFormat: t.legend,
        range: type !== 'table',
        instant: type === 'table',
        // A table shows one row per series (its labels as columns), not a time series per cell.
        ...(type === 'table' ? { format: 'table' } : {}),
      })),
    };
  });
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['propeller'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        {
          type: 'datasource',
          name: 'datasource',
          label: 'Data source',
          query: 'prometheus',
          current: { selected: true, text: 'Prometheus', value: 'prometheus' },
          hide: 0,
          refresh: 1,
        },
        ...d.variables,
      ],
    },
    annotations: { list: [] },
    links: [],
    panels,
  };
}
