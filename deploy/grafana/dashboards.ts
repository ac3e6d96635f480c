/**
 * Grafana dashboards as code. `npm run gen:deploy` writes them to
 * deploy/grafana/dashboards/*.json (file provisioning) and into the
 * Kubernetes ConfigMap for the Grafana sidecar; a test fails when the
 * committed files are stale, and test/integration/prometheus-dashboards.test.ts
 * runs every query below against a real Prometheus scraping a cluster.
 *
 * Every dashboard has a stable uid and a `datasource` variable; queries use
 * Grafana's `$__rate_interval`. Scrape job names (`propeller-coordinator`,
 * `propeller-worker`) are the Kubernetes Service names, which is what a
 * ServiceMonitor puts in the `job` label, and the job names of
 * deploy/prometheus/prometheus.yml.
 */

import { dashboardJson } from './dashboard-json.ts';
import { DS, type DashboardSpec, type PanelSpec, type Target } from './panel-spec.ts';

export { dashboardJson };

export const COORDINATOR_JOB = 'propeller-coordinator';
export const WORKER_JOB = 'propeller-worker';

export type { DashboardSpec, Target } from './panel-spec.ts';

const RI = '$__rate_interval';

const q = (expr: string, legend = '__auto'): Target => ({ expr, legend });
const rate = (metric: string, sel = '') => `rate(${metric}${sel ? `{${sel}}` : ''}[${RI}])`;
const quantile = (p: number, hist: string, by: string[], sel = '') =>
  `histogram_quantile(${p}, sum by (${['le', ...by].join(', ')}) (${rate(`${hist}_bucket`, sel)}))`;
const mean = (hist: string, by: string[], sel = '') => {
  const b = by.length ? ` by (${by.join(', ')})` : '';
  return `sum${b} (${rate(`${hist}_sum`, sel)}) / sum${b} (${rate(`${hist}_count`, sel)})`;
};

/** The process panels of one scrape job (CPU, memory, event loop lag). */
function processPanels(job: string, who: string, sel = ''): PanelSpec[] {
  const s = `job="${job}"${sel ? `, ${sel}` : ''}`;
  return [
    { title: `${who} CPU`, description: `CPU seconds per second of each ${who.toLowerCase()} process (1 = one core).`, targets: [q(rate('process_cpu_seconds_total', s), '{{instance}}')], unit: 'short' },
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

const overview: DashboardSpec = {
  uid: 'propeller-overview',
  title: 'Propeller / Cluster overview',
  description: 'Jobs, queue, workers and throughput of the whole cluster, from the coordinators.',
  variables: [],
  panels: [
    {
      title: 'Jobs by state',
      description: 'Jobs in the job store by state (max over coordinator replicas, which share one store on JetStream).',
      targets: [q('max by (state) (propeller_jobs)', '{{state}}')],
      stack: true,
    },
    {
      title: 'Queue depth',
      description: 'Jobs waiting for a run slot (max over replicas sharing the queue). A queue that only grows means too few run slots or workers (alert PropellerQueueBacklog).',
      targets: [q('max(propeller_queue_depth_jobs)', 'queued')],
    },
    {
      title: 'Jobs completed per minute',
      description: 'Jobs whose render ended, by outcome.',
      targets: [q(`sum by (outcome) (${rate('propeller_jobs_completed_total')}) * 60`, '{{outcome}}')],
      stack: true,
    },
    {
      title: 'Workers by state',
      description: "Workers in the coordinators' registries by state (max over coordinator replicas, which all see every worker).",
      targets: [q('max by (state) (propeller_workers)', '{{state}}')],
      stack: true,
    },
    {
      title: 'Evaluations per second by worker',
      description: 'Window evaluations answered by each worker, as the coordinators count them.',
      targets: [q(`sum by (worker) (${rate('propeller_worker_evaluations_total')})`, '{{worker}}')],
      stack: true,
    },
    {
      title: 'Batch latency (evaluate)',
      description: 'Latency of one micro-batch call to a worker, as the coordinator sees it: transfer, queueing on the worker and inference.',
      targets: [
        q(quantile(0.5, 'propeller_batch_duration_seconds', [], 'method="evaluate"'), 'p50'),
        q(quantile(0.95, 'propeller_batch_duration_seconds', [], 'method="evaluate"'), 'p95'),
      ],
      unit: 's',
    },
    { title: 'Wire throughput', description: 'Latent tensor bytes per second to and from the workers.', targets: [q(`sum by (direction) (${rate('propeller_wire_bytes_total')})`, '{{direction}}')], unit: 'Bps' },
    {
      title: 'Retries and stragglers',
      description: 'Micro-batches per second that failed and were retried elsewhere, and slow ones duplicated on an idle worker.',
      targets: [q(`sum(${rate('propeller_dispatch_retries_total')})`, 'retries'), q(`sum(${rate('propeller_dispatch_duplicates_total')})`, 'duplicates')],
    },
    {
      title: 'Batch errors by worker',
      description: 'Failed micro-batch calls per second by worker (timeouts, unreachable, worker errors); canceled calls excluded.',
      targets: [q(`sum by (worker) (${rate('propeller_batch_duration_seconds_count', 'outcome="error"')}) or vector(0)`, '{{worker}}')],
    },
    { title: 'Frames encoded per second', description: 'Video frames decoded on the workers and written to ffmpeg.', targets: [q(`sum(${rate('propeller_frames_encoded_total')})`, 'frames/s')] },
    {
      title: 'Longest stalled job',
      description: 'Longest time any running job has gone without progress (alert PropellerJobStuck).',
      targets: [q('max(propeller_job_stalled_seconds)', 'stalled')],
      unit: 's',
    },
    ...processPanels(COORDINATOR_JOB, 'Coordinator'),
  ],
};

const jobs: DashboardSpec = {
  uid: 'propeller-jobs',
  title: 'Propeller / Jobs and sampling',
  description: 'How jobs run: durations, queue wait, sampling rounds, Picard convergence, seams and encoding.',
  variables: [],
  panels: [
    {
      title: 'Jobs running',
      description: 'Jobs sampling or encoding now, in the (shared) job store.',
      targets: [q('max(sum without (state) (propeller_jobs{state=~"RUNNING|ENCODING"}))', 'running')],
      type: 'stat',
    },
    { title: 'Jobs queued', description: 'Jobs waiting for a run slot.', targets: [q('max(propeller_queue_depth_jobs)', 'queued')], type: 'stat' },
    {
      title: 'Job success ratio',
      description: 'Share of jobs ending in the window that succeeded.',
      targets: [q(`sum(${rate('propeller_jobs_completed_total', 'outcome="succeeded"')}) / sum(${rate('propeller_jobs_completed_total')})`, 'succeeded')],
      unit: 'percentunit',
      type: 'stat',
    },
    {
      title: 'Job duration',
      description: 'Time from start to end of a job (sampling, decoding, encoding), by outcome.',
      targets: [q(quantile(0.5, 'propeller_job_duration_seconds', ['outcome']), 'p50 {{outcome}}'), q(quantile(0.95, 'propeller_job_duration_seconds', ['outcome']), 'p95 {{outcome}}')],
      unit: 's',
    },
    {
      title: 'Queue wait',
      description: 'Time a job waited in the queue before it started.',
      targets: [q(quantile(0.5, 'propeller_job_queue_wait_seconds', []), 'p50'), q(quantile(0.95, 'propeller_job_queue_wait_seconds', []), 'p95')],
      unit: 's',
    },
    {
      title: 'Round duration',
      description: 'One sampling round (a step, or a Picard iteration over the window) with every layout window evaluated, by engine.',
      targets: [q(quantile(0.5, 'propeller_round_duration_seconds', ['engine']), 'p50 {{engine}}'), q(quantile(0.95, 'propeller_round_duration_seconds', ['engine']), 'p95 {{engine}}')],
      unit: 's',
    },
    { title: 'Picard iterations per second', description: 'Picard rounds run per second over all jobs.', targets: [q(`sum(${rate('propeller_picard_iterations_total')})`, 'iterations/s')] },
    {
      title: 'Picard stride',
      description: 'Mean steps the Picard window advances per iteration (1 = no better than sequential; the window size at best).',
      targets: [q(mean('propeller_picard_stride_steps', []), 'mean stride')],
    },
    {
      title: 'Picard window',
      description: 'Mean points (steps) a Picard iteration evaluated: the auto sampler widens it on idle workers and narrows it to 1 on a busy cluster.',
      targets: [q(mean('propeller_picard_window_steps', []), 'mean window')],
    },
    {
      title: 'Evaluations per job',
      description: 'Mean model evaluations a finished job spent sampling, by sampler: what parallel sampling costs in GPU time.',
      targets: [q(mean('propeller_job_evaluations_items', ['sampler']), '{{sampler}}')],
    },
    {
      title: 'Picard error ratio',
      description: 'Mean point error of an iteration over the acceptance threshold; points below 1 converge.',
      targets: [q(quantile(0.5, 'propeller_picard_error_ratio', []), 'p50'), q(quantile(0.9, 'propeller_picard_error_ratio', []), 'p90')],
    },
    {
      title: 'Seam ratio',
      description: 'Mean latent change across window edges over the median change elsewhere, of jobs finished in the window, by axis (1 = seamless).',
      targets: [q(mean('propeller_seam_ratio', ['axis']), '{{axis}}')],
    },
    { title: 'Frames encoded per second', description: 'Frames written to ffmpeg per second.', targets: [q(`sum(${rate('propeller_frames_encoded_total')})`, 'frames/s')] },
    {
      title: 'Micro-batch size',
      description: 'Mean window evaluations per micro-batch sent to a worker (small batches waste a GPU).',
      targets: [q(mean('propeller_batch_size_items', []), 'items')],
    },
  ],
};

const W = 'instance=~"$instance"';
const workers: DashboardSpec = {
  uid: 'propeller-workers',
  title: 'Propeller / Workers',
  description: "GPU workers: inference latency, batches, load, models, and the coordinator's view of each worker.",
  variables: [
    {
      type: 'query',
      name: 'instance',
      label: 'Worker',
      datasource: DS,
      query: { query: 'label_values(propeller_worker_info, instance)', refId: 'instance' },
      definition: 'label_values(propeller_worker_info, instance)',
      refresh: 2,
      includeAll: true,
      multi: true,
      allValue: '.+',
      current: { selected: true, text: ['All'], value: ['$__all'] },
      sort: 1,
    },
  ],
  panels: [
    {
      title: 'Worker state',
      description: 'Lifecycle state of each worker (starting, serving, draining, stopped, failed).',
      targets: [q(`propeller_worker_state{${W}} == 1`, '{{instance}} {{state}}')],
      type: 'table',
    },
    {
      title: 'Worker devices',
      description: 'Worker id, device (cpu, cuda:N) and version of each worker.',
      targets: [q(`propeller_worker_info{${W}}`, '{{worker_id}} {{device}} {{version}}')],
      type: 'table',
    },
    {
      title: 'Inference latency',
      description: 'ONNX Runtime time of one call, by model and method.',
      targets: [
        q(quantile(0.5, 'propeller_worker_inference_duration_seconds', ['model', 'method'], W), 'p50 {{model}} {{method}}'),
        q(quantile(0.95, 'propeller_worker_inference_duration_seconds', ['model', 'method'], W), 'p95 {{model}} {{method}}'),
      ],
      unit: 's',
    },
    { title: 'Batch size', description: 'Mean items per call, by model and method.', targets: [q(mean('propeller_worker_batch_size_items', ['model', 'method'], W), '{{model}} {{method}}')] },
    { title: 'In-flight calls', description: 'Calls each worker is answering now.', targets: [q(`propeller_worker_in_flight_calls{${W}}`, '{{instance}}')] },
    {
      title: 'Evaluations per second',
      description: 'Denoiser window evaluations each worker computes per second.',
      targets: [q(`sum by (instance) (${rate('propeller_worker_evaluations_served_total', W)})`, '{{instance}}')],
      stack: true,
    },
    {
      title: 'Device busy',
      description: 'Share of time each worker spends in ONNX Runtime on Evaluate calls.',
      targets: [q(rate('propeller_worker_compute_seconds_total', W), '{{instance}}')],
      unit: 'percentunit',
    },
    {
      title: 'Call failure ratio',
      description: 'Share of calls a worker answered with an error (bad input, unavailable model, inference failure).',
      targets: [q(`sum by (instance) (${rate('propeller_worker_call_failures_total', W)}) / clamp_min(sum by (instance) (${rate('propeller_worker_calls_total', W)}), 1e-9)`, '{{instance}}')],
      unit: 'percentunit',
    },
    {
      title: 'Model load time',
      description: 'Seconds to load each model and create its session at start (CUDA sessions take longest).',
      targets: [q(`propeller_worker_model_load_seconds{${W}}`, '{{instance}} {{model}}')],
      unit: 's',
      type: 'bargauge',
    },
    {
      title: 'Models available',
      description: 'Models each worker serves (1) or reports unavailable (0).',
      targets: [q(`propeller_worker_model_available{${W}}`, '{{instance}} {{model}}')],
      type: 'table',
    },
    {
      title: 'Batch latency by worker (coordinator view)',
      description: 'p95 latency of micro-batch calls to each worker as the coordinators see them; a slow outlier is a sick GPU.',
      targets: [q(quantile(0.95, 'propeller_batch_duration_seconds', ['worker'], 'method="evaluate"'), '{{worker}}')],
      unit: 's',
    },
    {
      title: 'Batches in flight by worker (coordinator view)',
      description: 'Calls the coordinators have in flight to each worker.',
      targets: [q('max by (worker) (propeller_worker_in_flight_batches)', '{{worker}}')],
    },
    {
      title: 'Batch outcomes by worker (coordinator view)',
      description: 'Calls per second to each worker by outcome (ok, error, canceled).',
      targets: [q(`sum by (worker, outcome) (${rate('propeller_batch_duration_seconds_count')})`, '{{worker}} {{outcome}}')],
    },
    ...processPanels(WORKER_JOB, 'Worker', W),
  ],
};

/** Every dashboard, in a stable order. */
export const DASHBOARDS: readonly DashboardSpec[] = [overview, jobs, workers];

/** Every panel query of a dashboard. */
export function dashboardQueries(d: DashboardSpec): { panel: string; target: Target }[] {
  return d.panels.flatMap((p) => p.targets.map((target) => ({ panel: p.title, target })));
}
