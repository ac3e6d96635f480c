import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { hostname } from 'node:os';
import { messageLimitOptions, widenServerReceiveWindow } from '../common/grpc-options.ts';
import { serverCredentials } from '../common/tls.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { bindServer, shutdownServer, type ServerHandle } from '../common/grpc-server.ts';
import { startHealthListener } from '../common/health-listener.ts';
import { PROPELLER_VERSION } from '../common/version.ts';
import { compileWorkerConfig, type WorkerConfig, type WorkerOptions } from './config.ts';
import { DenoiserService } from './denoiser-service.ts';
import { WorkerLifecycle } from './lifecycle.ts';
import { loadModels } from './model-registry.ts';
import { errorMessage } from '../common/errors.ts';
import type { WorkerAnnouncement } from '../common/worker-announcement.ts';
import { FaultInjector } from './fault-injection.ts';
import { WorkerMetrics } from './metrics.ts';
import { NatsAnnouncer } from './nats-announcer.ts';
import { SimulatedGpu } from './sim-device.ts';
import { isSimDevice, simProfileOf } from './sim-profiles.ts';

/** A running worker. */
export interface WorkerHandle extends ServerHandle<WorkerMetrics> {
  readonly config: WorkerConfig;
  readonly service: DenoiserService;
  readonly lifecycle: WorkerLifecycle;
  /** The simulated GPU when the device is `sim:<profile>` (its stats), else undefined. */
  readonly simulation: SimulatedGpu | undefined;
  /** Stops taking new calls, finishes in-flight ones, shuts down. Idempotent. */
  drain(): Promise<void>;
}

/**
 * Starts a worker: loads every model (one session each), binds the
 * DenoiserService and the standard health service, and starts serving.
 * A `sim:<profile>` device runs the models on the CPU and answers each
 * Evaluate after the profile's modelled latency (see sim-device.ts).
 */
export async function startWorker(options: WorkerOptions, log: Logger = createLogger('worker')): Promise<WorkerHandle> {
  const config = compileWorkerConfig(options);
  // Certificate files are read first: a wrong path fails before minutes of model loading.
  const credentials = serverCredentials(config.tls);
  const lifecycle = new WorkerLifecycle(log);
  // A simulated GPU computes its real outputs on the CPU.
  const simulation = isSimDevice(config.device) ? new SimulatedGpu(simProfileOf(config.device), log.child('sim')) : undefined;
  const models = await loadModels(config.modelDirs, { device: simulation ? 'cpu' : config.device, intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads }, log);
  if (models.size === 0) {
    lifecycle.set('failed', 'no models');
    throw new Error(`no models found under ${config.modelDirs.join(', ')}`);
  }
  const server = new grpc.Server(messageLimitOptions(config.maxMessageBytes));
  const health = new HealthImplementation({ '': 'NOT_SERVING', 'propeller.v1.DenoiserService': 'NOT_SERVING' });
  health.addToServer(server);
  const metrics = new WorkerMetrics();
  const service = new DenoiserService({
    workerId: config.workerId ?? `${hostname()}-${process.pid}`,
    device: config.device,
    version: PROPELLER_VERSION,
    models,
    maxBatch: config.maxBatch,
    maxItemsPerCall: config.maxItemsPerCall,
    maxMessageBytes: config.maxMessageBytes,
    lifecycle,
    log,
    onCompute: metrics.onCompute,
    afterCompute: withFaults(simulation?.afterCompute, config.failRate > 0 ? new FaultInjector(config.failRate) : undefined),
  });
  service.addToServer(server);
  metrics.observe({ service, models, lifecycle, info: { workerId: service.info().workerId ?? '', device: config.device, version: PROPELLER_VERSION, gpuUuid: config.gpuUuid ?? '' } });
  const address = await bindServer(server, config.listen, credentials);
  const healthListener = await startHealthListener(health, config.healthListen, server, (err) => lifecycle.set('failed', errorMessage(err)));
  if (!widenServerReceiveWindow(server)) log.warn('could not widen the HTTP/2 receive window (grpc-js internals changed?): requests cross in 64 KiB steps');
  lifecycle.set('serving', `listening on ${address}${config.tls ? (config.tls.ca ? ' (mTLS: client certificates required)' : ' (TLS)') : ''}`);
  health.setStatus('', 'SERVING');
  health.setStatus('propeller.v1.DenoiserService', 'SERVING');
  // Announced only once serving; withdrawn first thing when draining.
  let announcer: NatsAnnouncer | undefined;
  if (config.nats) {
    try {
      announcer = await NatsAnnouncer.start({ ...config.nats, announcement: () => announcement(config, service, config.advertise ?? address), log: log.child('nats') });
    } catch (err) {
      server.forceShutdown();
      await healthListener?.close();
      lifecycle.set('failed', errorMessage(err));
      throw err;
    }
  }

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    drained ??= (async () => {
      lifecycle.set('draining');
      await announcer?.stop();
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('propeller.v1.DenoiserService', 'NOT_SERVING');
      const deadline = Date.now() + config.drainTimeoutMs;
      while (service.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await shutdownServer(server, Math.max(100, deadline - Date.now()));
      for (const m of models.values()) {
        try {
          await m.session?.release();
        } catch (err) {
          log.warn('session release failed', { model: m.name, error: err });
        }
      }
      simulation?.logSummary();
      // Last: probes see NOT_SERVING until the worker is gone.
      await healthListener?.close();
      lifecycle.set('stopped');
    })();
    return drained;
  };
  return { address, config, service, lifecycle, simulation, metrics, healthAddress: healthListener?.address, drain };
}

/** The service's afterCompute hook with fault injection (a testing aid) after the simulated latency. */
function withFaults(
  after: ((items: number, seconds: number) => Promise<void>) | undefined,
  faults: FaultInjector | undefined,
): ((items: number, seconds: number) => Promise<void>) | undefined {
  if (!faults) return after;
  return async (items, seconds) => {
    await after?.(items, seconds);
    faults.check();
  };
}

/** What this worker announces in NATS. */
function announcement(config: WorkerConfig, service: DenoiserService, address: string): WorkerAnnouncement {
  const info = service.info();
  const c = service.counters;
  return {
    id: info.workerId ?? address,
    address,
    device: config.device,
    models: (info.models ?? []).filter((m) => m.available).map((m) => m.name ?? ''),
    maxBatch: config.maxBatch,
    evaluationsPerSecond: c.computeSeconds > 0 ? c.evaluations / c.computeSeconds : 0,
    version: info.version ?? '',
    announcedAtMs: Date.now(),
  };
}
