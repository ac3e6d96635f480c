/**
 * Alert rules as code. `npm run gen:deploy` writes them to
 * deploy/prometheus/alerts.yml (checked by `promtool check rules` and unit
 * tested by `promtool test rules` against alerts.test.yml) and into the
 * Kubernetes PrometheusRule. Each rule keeps its signal apart from its
 * threshold, so the Prometheus test can show that every signal returns data
 * from a running cluster (an alert that can never fire because a metric was
 * renamed shows up there).
 */
import { COORDINATOR_JOB, WORKER_JOB } from '../grafana/dashboards.ts';

export interface AlertSpec {
  alert: string;
  /** A query that returns at least one series on a healthy, scraped cluster. */
  signal: string;
  /** The comparison that fires, appended to the signal, e.g. `> 20`. */
  condition: string;
  for: string;
  severity: 'critical' | 'warning';
  summary: string;
  description: string;
}

export const ALERTS: readonly AlertSpec[] = [
  {
    alert: 'PropellerWorkerDown',
    signal: `up{job="${WORKER_JOB}"}`,
    condition: '== 0',
    for: '2m',
    severity: 'critical',
    summary: 'Worker {{ $labels.instance }} cannot be scraped',
    description: 'Prometheus has not reached the worker at {{ $labels.instance }} for 2 minutes: its pod, node or GPU is gone.',
  },
  {
    alert: 'PropellerWorkersUnhealthy',
    signal: `max by (state) (propeller_workers{state=~"suspect|dead"})`,
    condition: '> 0',
    for: '5m',
    severity: 'warning',
    summary: '{{ $value }} workers are {{ $labels.state }}',
    description: 'Coordinators have taken workers out of rotation for 5 minutes (missed deadlines, unreachable, or failing every call).',
  },
  {
    alert: 'PropellerCoordinatorDown',
    signal: `up{job="${COORDINATOR_JOB}"}`,
    condition: '== 0',
    for: '2m',
    severity: 'critical',
    summary: 'Coordinator {{ $labels.instance }} cannot be scraped',
    description: 'Prometheus has not reached the coordinator at {{ $labels.instance }} for 2 minutes.',
  },
  {
    alert: 'PropellerQueueBacklog',
    signal: 'max(propeller_queue_depth_jobs)',
    condition: '> 20',
    for: '15m',
    severity: 'warning',
    summary: '{{ $value }} jobs waiting',
    description: 'More than 20 jobs have waited for 15 minutes: add workers or raise --max-jobs.',
  },
  {
    alert: 'PropellerBatchErrorRate',
    signal:
      'sum(rate(propeller_batch_duration_seconds_count{outcome="error"}[5m]) or vector(0)) / clamp_min(sum(rate(propeller_batch_duration_seconds_count{outcome!="canceled"}[5m])), 1e-9)',
    condition: '> 0.05',
    for: '10m',
    severity: 'warning',
    summary: '{{ $value | humanizePercentage }} of micro-batches fail',
    description: 'More than 5% of calls to workers failed for 10 minutes; they are retried, but the cluster is losing capacity (see the Workers dashboard).',
  },
  {
    alert: 'PropellerJobFailures',
    signal:
      'sum(increase(propeller_jobs_completed_total{outcome="failed"}[30m])) / clamp_min(sum(increase(propeller_jobs_completed_total{outcome!="canceled"}[30m])), 1e-9)',
    condition: '> 0.2',
    for: '5m',
    severity: 'warning',
    summary: '{{ $value | humanizePercentage }} of jobs failed in the last 30 minutes',
    description: 'More than a fifth of the jobs that ended in the last 30 minutes failed; the job records name the cause.',
  },
  {
    alert: 'PropellerJobStuck',
    signal: 'max by (instance) (propeller_job_stalled_seconds)',
    condition: '> 600',
    for: '5m',
    severity: 'critical',
    summary: 'A job on {{ $labels.instance }} has made no progress for {{ $value | humanizeDuration }}',
    description: 'A running job has had no batch answered, step taken or frame encoded for over 10 minutes.',
  },
];

/** The rule file (Prometheus format) of the alerts. */
export function alertRuleGroups(): { groups: { name: string; rules: Record<string, unknown>[] }[] } {
  return {
    groups: [
      {
        name: 'propeller',
        rules: ALERTS.map((a) => ({
          alert: a.alert,
          expr: `${a.signal} ${a.condition}`,
          for: a.for,
          labels: { severity: a.severity },
          annotations: { summary: a.summary, description: a.description },
        })),
      },
    ],
  };
}
