/**
 * The coordinator's Prometheus metrics: one prom-client {@link Registry} per
 * coordinator (an embedded cluster in one process does not collide), filled
 * from what the parts already expose — job records, the worker registry's
 * entries, the dispatcher's wire counters — plus three wrappers at the
 * points where things happen: the render function (jobs, rounds, Picard,
 * frames, seams), the worker connection (batch latency and size) and the
 * job store's counts at scrape time (jobs by state, queue depth; from its
 * index, no record read). The gauges of the
 * cluster (workers, lost workers, discovery, backlog, wire), of the queue
 * (priority bands, tenants, JetStream consumers) and the API's counters
 * (refused Submits, jobs canceled while queued) live in coordinator/metrics/,
 * with the histogram buckets and their reasons.
 *
 * Names are `propeller_*` with units in the name; `deploy/grafana` and
 * `deploy/prometheus` use them, and test/unit/metrics-names.test.ts keeps the
 * three in step.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { Counter, Gauge, Registry } from 'prom-client';
import { CanceledError } from '../common/errors.ts';
import { timedWorkerClient } from './cluster/timed-worker-client.ts';
import { WorkerClient, type WorkerCalls } from './cluster/worker-client.ts';
import { JOB_STATES } from './jobs/job.ts';
import type { JobReporter, RenderFn } from './jobs/job-run.ts';
import { SAMPLER_KINDS } from './jobs/spec.ts';
import { ApiCallMetrics } from './metrics/api-calls.ts';
import { CALL_SECONDS, JOB_SECONDS, ROUND_SECONDS, histogram, waitHistogram } from './metrics/buckets.ts';
import { registerClusterGauges } from './metrics/cluster-gauges.ts';
import { registerQueueGauges } from './metrics/queue-gauges.ts';
import type { CoordinatorMetricSources } from './metrics/sources.ts';
import { TenantLabels } from './metrics/tenant-labels.ts';

/** How a job's render ended. */
type Outcome = 'succeeded' | 'failed' | 'canceled';


/** A running job, as the stall gauge sees it. */
interface Running {
  lastProgressMs: number;
}

/** Prometheus metrics of one coordinator. */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private sources: CoordinatorMetricSources | undefined;
  private readonly running = new Map<string, Running>();

  private readonly jobDuration = histogram(this.registry, 'propeller_job_duration_seconds', 'Time from a job starting to run to its end (sampling, decoding and encoding), by outcome.', JOB_SECONDS, ['outcome']);
  private readonly queueWait = waitHistogram(this.registry, 'propeller_job_queue_wait_seconds', 'Time a job waited in the queue before it started.');
  private readonly completed = new Counter({
    name: 'propeller_jobs_completed_total',
    help: 'Jobs whose render ended, by outcome (succeeded, failed, canceled).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly roundDuration = histogram(this.registry, 'propeller_round_duration_seconds', 'Wall time of one sampling round: a step (sequential engine) or a Picard iteration over the window, all layout windows included.', ROUND_SECONDS, ['engine']);
  private readonly picardRounds = new Counter({
    name: 'propeller_picard_iterations_total',
    help: 'Picard iterations (rounds) run, over all jobs.',
    registers: [this.registry],
  });
  private readonly picardStride = histogram(this.registry, 'propeller_picard_stride_steps', 'Steps the Picard window advanced in one iteration.', [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128]);
  private readonly picardWindow = histogram(this.registry, 'propeller_picard_window_steps', 'Points a Picard round evaluated (its window; the auto sampler picks it from the free workers every round).', [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64]);
  private readonly jobEvaluations = histogram(this.registry, 'propeller_job_evaluations_items', 'Model evaluations a finished job spent sampling, by sampler (sequential, picard, auto): what parallel sampling costs in GPU time.', [10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 300000, 1000000], ['sampler']);
  private readonly picardError = histogram(this.registry, 'propeller_picard_error_ratio', "Mean error of a Picard iteration's points over the acceptance threshold (below 1 converges).", [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 100, 1000, 10000]);
  private readonly framesEncoded = new Counter({
    name: 'propeller_frames_encoded_total',
    help: 'Video frames decoded on the workers and written to ffmpeg.',
    registers: [this.registry],
  });
  private readonly seamRatio = histogram(this.registry, 'propeller_seam_ratio', "A finished job's mean latent change across window edges over the median change elsewhere (1 = invisible), by axis.", [0.9, 0.95, 1, 1.02, 1.05, 1.1, 1.25, 1.5, 2, 3, 5], ['axis']);
  private readonly batchDuration = histogram(this.registry, 'propeller_batch_duration_seconds', 'Latency of one call to a worker (evaluate: a micro-batch; decode, encode), by worker, method and outcome (ok, error, canceled).', CALL_SECONDS, ['worker', 'method', 'outcome']);
  private readonly firstStep = waitHistogram(
    this.registry,
    'propeller_job_first_step_seconds',
    'Time from submit to the first finished sampling step (sequential) or round (Picard): what a user waits before progress shows.',
  );
  private readonly firstFrame = waitHistogram(this.registry, 'propeller_job_first_frame_seconds', 'Time from submit to the first frame written to the encoder.');
  /** Tenant label values of per-tenant metrics, bounded (metrics/tenant-labels.ts). */
  private readonly tenants = new TenantLabels();
  private readonly tenantEvaluations = new Counter({
    name: 'propeller_tenant_evaluations_total',
    help: "Window evaluations spent on each tenant's jobs (GPU usage); tenants past the first 50 share tenant=\"other\", unauthenticated jobs are \"anonymous\".",
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  /** Submits refused and jobs canceled while queued, seen by a gRPC server interceptor (`api.interceptor`). */
  readonly api = new ApiCallMetrics(this.registry);
  private readonly batchItems = histogram(this.registry, 'propeller_batch_size_items', 'Window evaluations in one micro-batch sent to a worker.', [1, 2, 4, 8, 16, 32, 64, 128, 256]);

  constructor() {
    const self = this;
    new Gauge({
      name: 'propeller_jobs',
      help: "Jobs in the coordinator's job store, by state (a JetStream store is shared: every replica reports all jobs).",
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await self.jobCounts();
        for (const s of JOB_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
    new Gauge({
      name: 'propeller_queue_depth_jobs',
      help: 'Jobs waiting in the queue for a run slot.',
      registers: [this.registry],
      async collect() {
        this.set((await self.jobCounts()).get('QUEUED') ?? 0);
      },
    });
    new Gauge({
      name: 'propeller_job_stalled_seconds',
      help: 'Longest time any running job has gone without progress (0 when none runs).',
      registers: [this.registry],
      collect() {
        const now = performance.now();
        let worst = 0;
        for (const r of self.running.values()) worst = Math.max(worst, (now - r.lastProgressMs) / 1000);
        this.set(worst);
      },
    });
    registerClusterGauges(this.registry, () => this.sources);
    registerQueueGauges(this.registry, () => this.sources, this.tenants);
    // Labelled series exist from the start: a series first scraped with a count already in it
    // loses that increase to rate() (and a dashboard would show nothing for the first jobs).
    for (const outcome of ['succeeded', 'failed', 'canceled'] satisfies Outcome[]) {
      this.completed.inc({ outcome }, 0);
      this.jobDuration.zero({ outcome });
    }
    for (const engine of ['sequential', 'picard']) this.roundDuration.zero({ engine });
    for (const axis of ['temporal', 'spatial']) this.seamRatio.zero({ axis });
    // Every sampler's series from the start, so the first job of each shows as an increase.
    for (const sampler of SAMPLER_KINDS) this.jobEvaluations.zero({ sampler });
  }

  /** Reads jobs, workers and wire counters from these at scrape time. */
  observe(sources: CoordinatorMetricSources): void {
    this.sources = sources;
  }

  /**
   * `RegistryOptions.connect`: a gRPC worker client whose calls are timed
   * (`propeller_batch_duration_seconds`, `propeller_batch_size_items`).
   */
  readonly connect = (address: string, maxMessageBytes: number, credentials?: ChannelCredentials): WorkerCalls =>
    timedWorkerClient(new WorkerClient(address, maxMessageBytes, credentials), {
      call: (method, outcome, seconds) => this.batchDuration.observe({ worker: this.workerLabel(address), method, outcome }, seconds),
      evaluateItems: (items) => this.batchItems.observe(items),
    });

  /**
   * Wraps the job pipeline: times the job and each round, and reads the
   * reporter's progress (Picard iterations, stride, error ratio, frames) and
   * final metrics (seam ratios) on their way to the job manager.
   */
  instrumentRender(render: RenderFn): RenderFn {
    return async (job, report, signal) => {
      const started = performance.now();
      if (job.startedAtMs && job.createdAtMs) this.queueWait.observe(Math.max(0, (job.startedAtMs - job.createdAtMs) / 1000));
      const running: Running = { lastProgressMs: started };
      this.running.set(job.id, running);
      let lastRound = started;
      let frames = 0;
      const tenant = this.tenants.of(job.tenant);
      // The tenant's series exists before its first increase, so rate() sees that one too.
      this.tenantEvaluations.inc({ tenant }, 0);
      let evaluations = 0;
      // Time to first step and frame is a fresh job's: a run resumed from a checkpoint (or a restart) does not count.
      let firstStepDue = !job.progress.step;
      let firstFrameDue = !job.progress.framesEncoded;
      const sinceSubmit = () => Math.max(0, (Date.now() - job.createdAtMs) / 1000);
      const reporter: JobReporter = (event) => {
        const now = performance.now();
        running.lastProgressMs = now;
        if ('evaluations' in event) {
          // Evaluations are cumulative for the job; a resumed run starts from the checkpoint's count.
          if (event.kind !== 'resumed' && event.evaluations > evaluations) this.tenantEvaluations.inc({ tenant }, event.evaluations - evaluations);
          evaluations = Math.max(evaluations, event.evaluations);
        }
        switch (event.kind) {
          case 'resumed':
            // Sampling goes on from a checkpoint: rounds count from here.
            lastRound = now;
            firstStepDue = firstFrameDue = false;
            break;
          case 'step':
          case 'picard-round':
            this.roundDuration.observe({ engine: event.kind === 'step' ? 'sequential' : 'picard' }, (now - lastRound) / 1000);
            lastRound = now;
            if (firstStepDue && job.createdAtMs) this.firstStep.observe(sinceSubmit());
            firstStepDue = false;
            if (event.kind === 'picard-round') {
              this.picardRounds.inc();
              this.picardStride.observe(event.stride);
              if (event.window) this.picardWindow.observe(event.window);
              if (Number.isFinite(event.errorRatio)) this.picardError.observe(event.errorRatio);
            }
            break;
          case 'frames-encoded':
            if (firstFrameDue && event.frames > 0 && job.createdAtMs) this.firstFrame.observe(sinceSubmit());
            if (event.frames > 0) firstFrameDue = false;
            if (event.frames > frames) {
              this.framesEncoded.inc(event.frames - frames);
              frames = event.frames;
            }
            break;
          case 'sampled':
            this.jobEvaluations.observe({ sampler: job.spec.sampler.kind }, event.evaluations);
            break;
          case 'seams':
            for (const axis of ['temporal', 'spatial'] as const) if (Number.isFinite(event[axis])) this.seamRatio.observe({ axis }, event[axis]);
            break;
        }
        report(event);
      };
      let outcome: Outcome = 'failed';
      try {
        const result = await render(job, reporter, signal);
        outcome = 'succeeded';
        return result;
      } catch (err) {
        outcome = signal.aborted && signal.reason instanceof CanceledError ? 'canceled' : 'failed';
        throw err;
      } finally {
        this.running.delete(job.id);
        this.completed.inc({ outcome });
        this.jobDuration.observe({ outcome }, (performance.now() - started) / 1000);
      }
    };
  }

  /** The `worker` label of an address: the id the worker reports (as the other worker metrics use), else the address. */
  private workerLabel(address: string): string {
    return this.sources?.registry.all().find((w) => w.address === address)?.id ?? address;
  }

  /** Job counts by state, read once per scrape (the two gauges share it) from the store's index: no record is read. */
  private countsAt = 0;
  private counts: Promise<Map<string, number>> | undefined;
  private jobCounts(): Promise<Map<string, number>> {
    const now = performance.now();
    if (!this.counts || now - this.countsAt > 100) {
      this.countsAt = now;
      this.counts = (async () => {
        const counts = await this.sources?.jobs.counts();
        return new Map<string, number>(counts ? Object.entries(counts) : []);
      })();
    }
    return this.counts;
  }
}
