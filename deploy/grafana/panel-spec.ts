/** Dashboards before they become Grafana JSON: panels, queries, the datasource (dashboards.ts, dashboard-json.ts). */

/** One query of a panel. */
export interface Target {
  expr: string;
  legend: string;
}

/** A panel before layout. */
export interface PanelSpec {
  title: string;
  description: string;
  targets: Target[];
  unit?: string;
  type?: 'timeseries' | 'stat' | 'bargauge' | 'table';
  stack?: boolean;
  /** Width in grid units (24 = full row); default 8. */
  width?: number;
}

/** A dashboard before it becomes Grafana JSON. */
export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Extra template variables (the datasource variable is always there). */
  variables: Record<string, unknown>[];
  panels: PanelSpec[];
}

/** The datasource every panel and query uses: the dashboard's `datasource` variable. */
export const DS = { type: 'prometheus', uid: '${datasource}' };
