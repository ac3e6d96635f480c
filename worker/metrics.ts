/**
 * The worker's Prometheus metrics: one prom-client {@link Registry} per
 * worker (several workers in one test process do not collide). Counters,
 * in-flight calls, model load times and the lifecycle state are read at
 * scrape time from what the service already keeps; latency and batch sizes
 * come from the service's `onCompute` hook, once per model run.
 *
 * Names are `propeller_worker_*` with units in the name; see
 * coordinator/metrics.ts for the coordinator's side of the same calls.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DenoiserService } from './denoiser-service.ts';
import type { WorkerLifecycle, WorkerState } from './lifecycle.ts';
import type { LoadedModel } from './model-registry.ts';

const LIFECYCLE_STATES: readonly WorkerState[] = ['starting', 'serving', 'draining', 'stopped', 'failed'];

/** What one model run was for. */
export type ComputeMethod = 'evaluate' | 'decode' | 'encode';

/** The parts read at scrape time. */
export interface WorkerMetricSources {
  service: Pick<DenoiserService, 'counters' | 'inFlight'>;
  models: ReadonlyMap<string, Pick<LoadedModel, 'name' | 'available' | 'loadSeconds'>>;
  lifecycle: Pick<WorkerLifecycle, 'state'>;
  /**
   * Worker id, device ("cpu", "cuda:0", "sim:h100-video"), version and the UUID of its GPU
   * ('' when unknown: the DCGM exporter's `UUID`, for joining GPU telemetry), as the info metric's labels.
   */
  info: { workerId: string; device: string; version: string; gpuUuid?: string };
}

/** Prometheus metrics of one worker. */
export class WorkerMetrics {
  readonly registry = new Registry();
  private sources: WorkerMetricSources | undefined;

  private readonly inference = new Histogram({
    name: 'propeller_worker_inference_duration_seconds',
    help: 'ONNX Runtime time of one call (all its runs of at most max batch items), by model and method (evaluate, decode, encode).',
    labelNames: ['model', 'method'],
    // To 5 minutes: an A100-class GPU takes ~15 s for a batch of 16 video windows, a large decode longer.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly busy = new Counter({
    name: 'propeller_worker_device_busy_seconds_total',
    help: 'Seconds the device spent in ONNX Runtime, by method (evaluate, decode, encode): the rate summed over methods is the busy share of the device.',
    labelNames: ['method'],
    registers: [this.registry],
  });
  private readonly batchItems = new Histogram({
    name: 'propeller_worker_batch_size_items',
    help: 'Items (windows or frames) in one call, by model and method.',
    labelNames: ['model', 'method'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  constructor() {
    const self = this;
    // Every method's series from the start, so the first call of each shows in rate().
    for (const method of ['evaluate', 'decode', 'encode'] satisfies ComputeMethod[]) this.busy.inc({ method }, 0);
    const counter = (name: string, help: string, read: (s: WorkerMetricSources) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          if (self.sources) this.inc(read(self.sources));
        },
      });
    counter('propeller_worker_evaluations_served_total', 'Denoiser window evaluations this worker computed.', (s) => s.service.counters.evaluations);
    counter('propeller_worker_calls_total', 'Evaluate, Decode and Encode calls this worker accepted.', (s) => s.service.counters.calls);
    counter('propeller_worker_call_failures_total', 'Calls this worker answered with an error (bad input, unavailable model, inference failure).', (s) => s.service.counters.failures);
    counter('propeller_worker_compute_seconds_total', 'Seconds spent in ONNX Runtime on Evaluate calls alone (propeller_worker_device_busy_seconds_total counts every call: the busy share).', (s) => s.service.counters.computeSeconds);
    new Gauge({
      name: 'propeller_worker_in_flight_calls',
      help: 'Calls being answered now.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.service.inFlight ?? 0);
      },
    });
    new Gauge({
      name: 'propeller_worker_model_load_seconds',
      help: 'Time to load each model and create its ONNX Runtime session at start.',
      labelNames: ['model'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of self.sources?.models.values() ?? []) this.set({ model: m.name }, m.loadSeconds);
      },
    });
    new Gauge({
      name: 'propeller_worker_model_available',
      help: 'Whether each model found in the model directories is served (1) or unavailable (0).',
      labelNames: ['model'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of self.sources?.models.values() ?? []) this.set({ model: m.name }, m.available ? 1 : 0);
      },
    });
    new Gauge({
      name: 'propeller_worker_state',
      help: "The worker's lifecycle state (1 for the current one): starting, serving, draining, stopped, failed.",
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const current = self.sources?.lifecycle.state;
        for (const s of LIFECYCLE_STATES) this.set({ state: s }, s === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'propeller_worker_info',
      help: 'Always 1; labels: worker id, device, version and GPU UUID (gpu_uuid, joins the DCGM exporter\'s UUID label).',
      labelNames: ['worker_id', 'device', 'version', 'gpu_uuid'],
      registers: [this.registry],
      collect() {
        this.reset();
        const info = self.sources?.info;
        if (info) this.set({ worker_id: info.workerId, device: info.device, version: info.version, gpu_uuid: info.gpuUuid ?? '' }, 1);
      },
    });
  }

  /** Reads the service, models and lifecycle from these at scrape time. */
  observe(sources: WorkerMetricSources): void {
    this.sources = sources;
  }

  /** `DenoiserServiceOptions.onCompute`: one call's model runs took `seconds` in ONNX Runtime for `items` items. */
  readonly onCompute = (model: string, method: ComputeMethod, items: number, seconds: number): void => {
    this.inference.observe({ model, method }, seconds);
    this.batchItems.observe({ model, method }, items);
    this.busy.inc({ method }, seconds);
  };
}
