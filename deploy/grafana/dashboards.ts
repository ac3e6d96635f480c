/**
 * Grafana dashboards as code, one file each (overview-dashboard.ts,
 * jobs-dashboard.ts, workers-dashboard.ts; the query helpers in queries.ts).
 * `npm run gen:deploy` writes them to deploy/grafana/dashboards/*.json (file
 * provisioning) and into the Kubernetes ConfigMap for the Grafana sidecar; a
 * test fails when the committed files are stale, and
 * test/integration/prometheus-dashboards.test.ts runs every query against a
 * real Prometheus scraping a cluster.
 *
 * Every dashboard has a stable uid and a `datasource` variable; queries use
 * Grafana's `$__rate_interval`. Scrape job names (`propeller-coordinator`,
 * `propeller-worker`) are the Kubernetes Service names, which is what a
 * ServiceMonitor puts in the `job` label, and the job names of
 * deploy/prometheus/prometheus.yml.
 */

import { dashboardJson } from './dashboard-json.ts';
import { jobs } from './jobs-dashboard.ts';
import { overview } from './overview-dashboard.ts';
import type { DashboardSpec, Target } from './panel-spec.ts';
import { workers } from './workers-dashboard.ts';

export { dashboardJson };
export { COORDINATOR_JOB, WORKER_JOB } from './queries.ts';
export type { DashboardSpec, Target } from './panel-spec.ts';

/** Every dashboard, in a stable order. */
export const DASHBOARDS: readonly DashboardSpec[] = [overview, jobs, workers];

/** Every panel query of a dashboard. */
export function dashboardQueries(d: DashboardSpec): { panel: string; target: Target }[] {
  return d.panels.flatMap((p) => p.targets.map((target) => ({ panel: p.title, target })));
}
