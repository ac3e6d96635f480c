/**
 * The building blocks of the dashboards' queries: scrape job names, rate,
 * quantile and mean over histograms (Grafana's `$__rate_interval`), and the
 * process panels every component gets.
 */
import type { PanelSpec, Target } from './panel-spec.ts';

/** Scrape job of the coordinators: the Kubernetes Service name (what a ServiceMonitor puts in `job`) and the job of deploy/prometheus/prometheus.yml. */
export const COORDINATOR_JOB = 'propeller-coordinator';
/** Scrape job of the workers. */
export const WORKER_JOB = 'propeller-worker';

const RI = '$__rate_interval';

/** One query of a panel with its legend. */
export const q = (expr: string, legend = '__auto'): Target => ({ expr, legend });
/** Per-second rate of a counter over Grafana's rate interval. */
export const rate = (metric: string, sel = '') => `rate(${metric}${sel ? `{${sel}}` : ''}[${RI}])`;
/** The `p` quantile of a histogram, kept by `by`. */
export const quantile = (p: number, hist: string, by: string[], sel = '') =>
  `histogram_quantile(${p}, sum by (${['le', ...by].join(', ')}) (${rate(`${hist}_bucket`, sel)}))`;
/** The mean of a histogram's observations in the rate interval, kept by `by`. */
export const mean = (hist: string, by: string[], sel = '') => {
  const b = by.length ? ` by (${by.join(', ')})` : '';
  return `sum${b} (${rate(`${hist}_sum`, sel)}) / sum${b} (${rate(`${hist}_count`, sel)})`;
};

/** The process panels of one scrape job (CPU, memory, event loop lag). */
export function processPanels(job: string, who: string, sel = ''): PanelSpec[] {
  const s = `job="${job}"${sel ? `, ${sel}` : ''}`;
  return [
    // A CPU second per second is one core: shown as a percentage of one core.
    { title: `${who} CPU`, description: `CPU time of each ${who.toLowerCase()} process as a share of one core (100% = one core busy).`, targets: [q(rate('process_cpu_seconds_total', s), '{{instance}}')], unit: 'percentunit' },
    {
      title: `${who} memory`,
      description: `Resident memory and V8 heap in use of each ${who.toLowerCase()} process.`,
      targets: [q(`process_resident_memory_bytes{${s}}`, 'rss {{instance}}'), q(`nodejs_heap_size_used_bytes{${s}}`, 'heap {{instance}}')],
      unit: 'bytes',
    },
    {
      title: `${who} event loop lag p99`,
      description: `99th percentile event loop delay: a busy loop delays gRPC answers and ${who === 'Coordinator' ? 'merging' : 'request decoding'}.`,
      targets: [q(`nodejs_eventloop_lag_p99_seconds{${s}}`, '{{instance}}')],
      unit: 's',
    },
  ];
}

