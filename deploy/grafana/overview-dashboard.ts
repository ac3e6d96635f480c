/** The cluster overview dashboard: jobs, queue, workers (expected vs serving, discovery), dispatch and throughput, from the coordinators. */
import type { DashboardSpec } from './panel-spec.ts';
import { COORDINATOR_JOB, processPanels, q, quantile, rate } from './queries.ts';

/** Workers the coordinators expect: every state but draining (leaving on purpose), lost ones included. */
const EXPECTED = 'max(sum by (instance) (propeller_workers{state=~"unknown|serving|suspect|dead|lost"}))';

export const overview: DashboardSpec = {
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
      title: 'Queue depth by priority band',
      description: 'Jobs waiting for a run slot, by priority band (high > 0, normal = 0, low < 0), and in all (max over replicas sharing the queue). A queue that only grows means too few run slots or workers (alert PropellerQueueBacklog).',
      targets: [q('max by (band) (propeller_queue_band_depth_jobs)', '{{band}}'), q('max(propeller_queue_depth_jobs)', 'all')],
    },
    {
      title: 'Jobs ended per minute',
      description: 'Jobs whose run ended, by outcome, and jobs canceled while still queued (they never ran).',
      targets: [
        q(`sum by (outcome) (${rate('propeller_jobs_completed_total')}) * 60`, '{{outcome}}'),
        q(`sum(${rate('propeller_jobs_canceled_queued_total')}) * 60`, 'canceled while queued'),
      ],
      unit: 'opm',
      stack: true,
    },
    {
      title: 'Submits refused per second',
      description: 'Submits the coordinators refused, by gRPC status code: INVALID_ARGUMENT (a bad spec), RESOURCE_EXHAUSTED (queue, tenant quota or memory full), UNAUTHENTICATED...',
      targets: [q(`sum by (code) (${rate('propeller_submit_rejections_total')})`, '{{code}}')],
      unit: 'reqps',
    },
    {
      title: 'Workers by state',
      description: "Workers in the coordinators' registries by state (max over coordinator replicas, which all see every worker); lost: gone without a drain in the last hour (alert PropellerWorkerLost).",
      targets: [q('max by (state) (propeller_workers)', '{{state}}')],
      stack: true,
    },
    {
      title: 'Expected vs serving workers',
      description: 'Workers the coordinators expect (serving, starting, suspect, dead or lost) against those serving (alerts PropellerTooFewWorkers, PropellerNoCapacity).',
      targets: [q(EXPECTED, 'expected'), q('max(sum by (instance) (propeller_workers{state="serving"}))', 'serving')],
    },
    {
      title: 'Worker discovery',
      description: 'Whether each coordinator sees NATS worker announcements (1) or is blind (0: NATS unreachable; known workers stay as they were; alert PropellerDiscoveryDown).',
      targets: [q('min by (instance) (propeller_discovery_up)', '{{instance}}')],
    },
    {
      title: 'Dispatch backlog',
      description: 'Window evaluations waiting in the dispatchers for a free worker, by model (summed over coordinators): a backlog that grows while workers idle is a dispatch problem, one that grows with busy workers a capacity one.',
      targets: [q('sum by (model) (propeller_dispatch_backlog_items)', '{{model}}')],
      stack: true,
    },
    {
      title: 'Evaluations per second by worker',
      description: 'Window evaluations answered by each worker, as the coordinators count them.',
      targets: [q(`sum by (worker) (${rate('propeller_worker_evaluations_total')})`, '{{worker}}')],
      unit: 'ops',
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
      unit: 'ops',
    },
    {
      title: 'Batch errors by worker',
      description: 'Failed micro-batch calls per second by worker (timeouts, unreachable, worker errors); canceled calls excluded.',
      targets: [q(`sum by (worker) (${rate('propeller_batch_duration_seconds_count', 'outcome="error"')}) or vector(0)`, '{{worker}}')],
      unit: 'reqps',
    },
    {
      title: 'JetStream submission consumers',
      description: 'Per priority band: submissions not yet delivered (pending), held by a coordinator (ack pending), and held after a redelivery (alerts PropellerJetStreamPending, PropellerJetStreamRedeliveries). Empty with the in-memory job backend.',
      targets: [
        q('max by (band) (propeller_jetstream_consumer_pending_messages)', 'pending {{band}}'),
        q('max by (band) (propeller_jetstream_consumer_ack_pending_messages)', 'held {{band}}'),
        q('max by (band) (propeller_jetstream_consumer_redelivered_messages)', 'redelivered {{band}}'),
      ],
    },
    { title: 'Frames encoded per second', description: 'Video frames decoded on the workers and written to ffmpeg.', targets: [q(`sum(${rate('propeller_frames_encoded_total')})`, 'frames/s')], unit: 'ops' },
    {
      title: 'Longest stalled job',
      description: 'Longest time any running job has gone without progress (alert PropellerJobStuck).',
      targets: [q('max(propeller_job_stalled_seconds)', 'stalled')],
      unit: 's',
    },
    ...processPanels(COORDINATOR_JOB, 'Coordinator'),
  ],
};
