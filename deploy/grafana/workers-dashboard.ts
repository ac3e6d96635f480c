/** The workers dashboard: inference latency, batches, load, models, and the coordinators' view of each worker. */
import { DS, type DashboardSpec } from './panel-spec.ts';
import { WORKER_JOB, mean, processPanels, q, quantile, rate } from './queries.ts';

const W = 'instance=~"$instance"';
export const workers: DashboardSpec = {
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
      unit: 'ops',
      stack: true,
    },
    {
      title: 'Device busy',
      description: 'Share of time each worker spends in ONNX Runtime: on every call (evaluate, decode, encode), and on Evaluate calls alone.',
      targets: [q(`sum by (instance) (${rate('propeller_worker_device_busy_seconds_total', W)})`, '{{instance}} all calls'), q(rate('propeller_worker_compute_seconds_total', W), '{{instance}} evaluate')],
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
      unit: 'reqps',
    },
    ...processPanels(WORKER_JOB, 'Worker', W),
  ],
};
