/**
 * Alert rules as code. `npm run gen:deploy` writes them to
 * deploy/prometheus/alerts.yml (checked by `promtool check rules` and unit
 * tested by `promtool test rules` against alerts.test.yml) and into the
 * Kubernetes PrometheusRule. Each rule keeps its signal apart from its
 * threshold, so the Prometheus test can show that every signal returns data
 * from a running cluster (an alert that can never fire because a metric was
 * renamed shows up there). Every alert links its runbook,
 * docs/runbooks/<alert>.md (what it means, how to confirm it, what to do).
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

/** Where the runbooks are, relative to the repository root (prefix your repository's URL in a fork). */
export const RUNBOOK_DIR = 'docs/runbooks';

/** The runbook of an alert. */
export const runbookUrl = (alert: string): string => `${RUNBOOK_DIR}/${alert}.md`;

/** Workers the coordinators count: every registry state but draining (leaving on purpose), and lost ones. */
const EXPECTED_WORKERS = 'max(sum by (instance) (propeller_workers{state=~"unknown|serving|suspect|dead|lost"}))';
const SERVING_WORKERS = 'max(sum by (instance) (propeller_workers{state="serving"}))';

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
    alert: 'PropellerWorkerLost',
    signal: 'max by (state) (propeller_workers{state=~"lost|dead"})',
    condition: '> 0',
    for: '1m',
    severity: 'critical',
    summary: '{{ $value }} workers are {{ $labels.state }}',
    description: 'Workers went away without draining: their NATS announcement lapsed (lost; on Kubernetes their scrape target went with the pod) or they stopped answering (dead).',
  },
  {
    alert: 'PropellerWorkersUnhealthy',
    signal: 'max(propeller_workers{state="suspect"})',
    condition: '> 0',
    for: '5m',
    severity: 'warning',
    summary: '{{ $value }} workers are suspect',
    description: 'Coordinators have held workers out of rotation for 5 minutes after missed deadlines; their heartbeats answer neither well enough to serve nor badly enough to be dead.',
  },
  {
    alert: 'PropellerTooFewWorkers',
    signal: `${SERVING_WORKERS} / clamp_min(${EXPECTED_WORKERS}, 1)`,
    condition: '< 0.75',
    for: '10m',
    severity: 'warning',
    summary: 'Only {{ $value | humanizePercentage }} of the expected workers serve',
    description: 'Fewer than three quarters of the workers the coordinators know (serving, starting, suspect, dead or lost) have served for 10 minutes: jobs run slower than planned.',
  },
  {
    alert: 'PropellerNoCapacity',
    signal: `max(sum by (instance) (propeller_jobs{state=~"QUEUED|RUNNING|ENCODING"})) * on() (${SERVING_WORKERS} == bool 0)`,
    condition: '> 0',
    for: '2m',
    severity: 'critical',
    summary: '{{ $value }} jobs wait and no worker serves',
    description: 'Jobs are queued or running but no coordinator has a serving worker: nothing progresses until workers come back.',
  },
  {
    alert: 'PropellerModelUnavailable',
    signal: `1 - propeller_worker_model_available`,
    condition: '> 0',
    for: '10m',
    severity: 'warning',
    summary: 'Model {{ $labels.model }} is unavailable on {{ $labels.instance }}',
    description: 'A worker found the model but cannot serve it (bad manifest, failed session, missing files): jobs for it go to other workers, or are refused.',
  },
  {
    alert: 'PropellerWorkerFailed',
    signal: 'propeller_worker_state{state="failed"}',
    condition: '== 1',
    for: '5m',
    severity: 'critical',
    summary: 'Worker {{ $labels.instance }} is in state failed',
    description: 'The worker process is up but its lifecycle is failed (it serves nothing) for 5 minutes; it needs a restart.',
  },
  {
    alert: 'PropellerDiscoveryDown',
    signal: 'min by (instance) (propeller_discovery_up)',
    condition: '== 0',
    for: '2m',
    severity: 'warning',
    summary: 'Coordinator {{ $labels.instance }} cannot see worker announcements',
    description: 'The coordinator lost its NATS connection for 2 minutes: known workers keep serving, but new workers are not found and departures are not noticed.',
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
    alert: 'PropellerJetStreamPending',
    signal: 'max(sum by (instance) (propeller_jetstream_consumer_pending_messages))',
    condition: '> 100',
    for: '30m',
    severity: 'warning',
    summary: '{{ $value }} submissions wait on JetStream',
    description: 'More than 100 submissions have waited undelivered for 30 minutes: the coordinators take jobs slower than they arrive.',
  },
  {
    alert: 'PropellerJetStreamRedeliveries',
    signal: 'max(sum by (instance) (propeller_jetstream_consumer_redelivered_messages))',
    condition: '> 0',
    for: '15m',
    severity: 'warning',
    summary: '{{ $value }} held submissions were redelivered',
    description: 'Jobs have been handed from one coordinator to another for 15 minutes: coordinators die or stop renewing their jobs within the ack wait.',
  },
  {
    alert: 'PropellerQueueWaitSlo',
    signal: 'histogram_quantile(0.95, sum by (le) (rate(propeller_job_queue_wait_seconds_bucket[30m])))',
    condition: '> 600',
    for: '15m',
    severity: 'warning',
    summary: 'p95 queue wait is {{ $value | humanizeDuration }}',
    description: 'The 95th percentile of the time jobs waited before starting has been over 10 minutes (the SLO) for 15 minutes: add workers or run slots.',
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

/**
 * The rule file (Prometheus format) of the alerts. `forOverride` replaces
 * every `for:` (tests that watch an alert fire in seconds render the rules
 * with a short one; the shipped files never set it).
 */
export function alertRuleGroups(forOverride?: string): { groups: { name: string; rules: Record<string, unknown>[] }[] } {
  return {
    groups: [
      {
        name: 'propeller',
        rules: ALERTS.map((a) => ({
          alert: a.alert,
          expr: `${a.signal} ${a.condition}`,
          for: forOverride ?? a.for,
          labels: { severity: a.severity },
          annotations: { summary: a.summary, description: a.description, runbook_url: runbookUrl(a.alert) },
        })),
      },
    ],
  };
}
