import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { resolve } from 'node:path';
import { messageLimitOptions } from '../common/grpc-options.ts';
import { loadTenantTokens } from './api/tenants.ts';
import { channelCredentials, isLoopbackListen, serverCredentials } from '../common/tls.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { bindServer, shutdownServer, type ServerHandle } from '../common/grpc-server.ts';
import { startHealthListener } from '../common/health-listener.ts';
import type { DenoiserManifest } from '../common/manifest.ts';
import { JobService } from './api/job-service.ts';
import { CapacityModel } from './cluster/capacity.ts';
import { MemoryBudget } from './jobs/memory-budget.ts';
import { Dispatcher } from './cluster/dispatcher.ts';
import { NatsDiscovery } from './cluster/nats-registry.ts';
import { WorkerRegistry } from './cluster/worker-registry.ts';
import { compileCoordinatorConfig, type CoordinatorConfig, type CoordinatorOptions } from './config.ts';
import { CoordinatorMetrics } from './metrics.ts';
import { JobManager } from './jobs/job-manager.ts';
import { openJetStreamJobs, type JetStreamJobs } from './jetstream/mod.ts';
import { LocalArtifactStore } from './jobs/local-artifacts.ts';
import { LocalInputStore } from './jobs/local-inputs.ts';
import { MemoryJobQueue } from './jobs/memory-queue.ts';
import { MemoryJobStore } from './jobs/memory-store.ts';
import { createRenderer } from './jobs/render.ts';
import { PreviewBoard } from './previews/board.ts';
import { FfmpegEncoder } from './video/encoder.ts';

/** A running coordinator. */
export interface CoordinatorHandle extends ServerHandle<CoordinatorMetrics> {
  readonly config: CoordinatorConfig;
  readonly registry: WorkerRegistry;
  readonly jobs: JobManager;
  readonly dispatcher: Dispatcher;
  /** Worker discovery through NATS, when configured. */
  readonly discovery: NatsDiscovery | undefined;
  /** Jobs on NATS JetStream (shared with other coordinators), when configured. */
  readonly jetstream: JetStreamJobs | undefined;
  /** Stops the API, cancels running jobs, closes worker connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a coordinator in this process: worker registry (static list and,
 * with `nats`, discovery through a NATS KV bucket), dispatcher, jobs (an
 * in-memory store and queue with local artifacts, or with `jetstream` the
 * shared NATS JetStream adapters), and the gRPC JobService with health.
 */
export async function startCoordinator(options: CoordinatorOptions, log: Logger = createLogger('coordinator')): Promise<CoordinatorHandle> {
  const config = compileCoordinatorConfig(options);
  // Tokens and certificates are read first: a wrong path fails before anything starts.
  const auth = loadTenantTokens(config.auth);
  const apiCredentials = serverCredentials(config.tls, 'tls');
  const workerCredentials = channelCredentials(config.workerTls, 'workerTls');
  const metrics = new CoordinatorMetrics();
  const registry = new WorkerRegistry({
    connect: (address, maxMessageBytes) => metrics.connect(address, maxMessageBytes, workerCredentials),
    maxMessageBytes: config.maxMessageBytes,
    infoTimeoutMs: config.infoTimeoutMs,
    probeIntervalMs: config.workerProbeIntervalMs,
    maxConsecutiveFailures: config.maxConsecutiveFailures,
    log: log.child('registry'),
  });
  await registry.add(config.workers);
  registry.start();
  if (config.workers.length > 0 && registry.serving().length === 0 && config.workerStartWaitMs > 0) {
    log.info('waiting for a static worker to serve before accepting jobs', { workers: config.workers.length, waitMs: config.workerStartWaitMs });
    if (!(await registry.waitForServing(config.workerStartWaitMs))) {
      log.warn('no static worker serves yet; accepting jobs anyway (they wait for workers)', { errors: registry.all().map((e) => `${e.address}: ${e.lastError}`) });
    }
  }
  let discovery: NatsDiscovery | undefined;
  try {
    discovery = config.nats ? await NatsDiscovery.start(registry, { ...config.nats, log: log.child('nats') }) : undefined;
  } catch (err) {
    registry.close();
    throw err;
  }
  const dispatcher = new Dispatcher(registry, {
    wireDtype: config.wireDtype,
    maxInFlightPerWorker: config.maxInFlightPerWorker,
    batchTimeoutMs: config.batchTimeoutMs,
    maxAttempts: config.maxAttempts,
    noWorkerTimeoutMs: config.noWorkerTimeoutMs,
    stragglers: config.stragglers,
    log: log.child('dispatcher'),
  });
  let shared: JetStreamJobs | undefined;
  try {
    shared = config.jetstream ? await openJetStreamJobs(config.jetstream, resolve(config.dataDir, 'outputs'), resolve(config.dataDir, 'inputs'), log.child('jetstream')) : undefined;
  } catch (err) {
    await discovery?.close().catch(() => undefined);
    dispatcher.close();
    registry.close();
    throw err;
  }
  const artifacts = shared?.artifacts ?? localArtifacts(resolve(config.dataDir, 'outputs'), log);
  const inputs = shared?.inputs ?? new LocalInputStore(resolve(config.dataDir, 'inputs'));
  const manifest = (name: string) => {
    const m = registry.manifest(name);
    return m?.kind === 'denoiser' ? (m as DenoiserManifest) : undefined;
  };
  // The auto sampler's view of who needs the workers (coordinator/cluster/capacity.ts).
  const capacity = new CapacityModel({
    slots: (model) => registry.serving(model).reduce((n, w) => n + w.capacity, 0),
    shareWorkers: (a, b) => a === b || registry.serving(a).some((w) => w.models.has(b)),
    // Jobs waiting that this coordinator would start now; a queue that cannot
    // be read (broker outage) counts none rather than failing the running jobs.
    waiting: async () => {
      const free = config.maxConcurrentJobs - jobs.runningCount;
      if (free <= 0) return 0;
      return Math.min(free, await queue.size().catch(() => 0));
    },
  });
  const queue = shared?.queue ?? new MemoryJobQueue();
  const memory = new MemoryBudget(config.memoryBudgetBytes);
  // Live previews: posted by the renders, streamed by Watch.
  const previews = new PreviewBoard();
  const jobs = new JobManager({
    store: shared?.store ?? new MemoryJobStore(),
    queue,
    cancels: shared?.cancels,
    checkpoints: shared?.checkpoints,
    leaseRefreshMs: shared ? Math.max(250, Math.floor(shared.config.ackWaitMs / 3)) : undefined,
    render: metrics.instrumentRender(createRenderer({ pool: dispatcher, encoder: new FfmpegEncoder(), artifacts, inputs, manifest, log: log.child('render'), decodeFramesPerCall: config.decodeFramesPerCall, checkpoints: shared?.checkpoints, checkpointIntervalMs: shared?.config.checkpointIntervalMs, capacity, maxInputPixels: config.limits.maxInputPixels, memory, previews })),
    maxConcurrentJobs: config.maxConcurrentJobs,
    maxQueued: config.limits.maxQueued,
    maxQueuedPerTenant: config.limits.maxQueuedPerTenant,
    maxActivePerTenant: config.limits.maxActivePerTenant,
    progressIntervalMs: config.progressIntervalMs,
    log: log.child('jobs'),
  });
  jobs.start();
  metrics.observe({ jobs, registry, dispatcher, discovery, queueStats: shared ? () => shared.queue.consumerStats() : undefined });

  const server = new grpc.Server({ ...messageLimitOptions(config.maxMessageBytes), interceptors: [metrics.api.interceptor] });
  const health = new HealthImplementation({ '': 'SERVING', 'propeller.v1.JobService': 'SERVING' });
  health.addToServer(server);
  new JobService({ jobs, registry, artifacts, inputs, limits: config.limits, defaultSampler: config.defaultSampler, memory, auth, log, previews }).addToServer(server);
  const address = await bindServer(server, config.listen, apiCredentials);
  if (!auth.enabled && !isLoopbackListen(config.listen)) {
    log.warn('JobService listens beyond loopback without tokens: anyone who reaches it can submit, see and cancel every job (configure auth.tokensFile or PROPELLER_TOKENS)', { listen: config.listen });
  }
  if (!auth.enabled && shared) {
    // Tenants live in the shared job records; without tokens this coordinator
    // checks none of them, whatever the other coordinators on the prefix do.
    log.warn('JetStream jobs without tokens: every job on this prefix, whatever its tenant, is visible and cancelable through this coordinator (configure auth.tokensFile or PROPELLER_TOKENS as on the other coordinators)', { prefix: shared.config.prefix });
  }
  const healthListener = await startHealthListener(health, config.healthListen, server, async () => {
    await jobs.close().catch(() => undefined);
    await discovery?.close().catch(() => undefined);
    await shared?.close().catch(() => undefined);
    dispatcher.close();
    registry.close();
  });
  log.info('coordinator listening', { address, auth: auth.enabled ? `${auth.tenants} tenants` : 'off', tls: config.tls ? (config.tls.ca ? 'mtls' : 'tls') : 'off', workerTls: config.workerTls ? 'on' : 'off', workers: config.workers.length, nats: config.nats ? `${config.nats.servers} bucket ${config.nats.bucket}` : 'off', health: healthListener?.address ?? 'main port' });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      health.setStatus('', 'NOT_SERVING');
      try {
        await jobs.close();
      } catch (err) {
        log.warn('closing jobs failed', { error: err });
      }
      await shutdownServer(server, 2_000);
      try {
        await discovery?.close();
      } catch (err) {
        log.warn('closing NATS discovery failed', { error: err });
      }
      try {
        await shared?.close();
      } catch (err) {
        log.warn('closing the JetStream job backend failed', { error: err });
      }
      dispatcher.close();
      registry.close();
      // Last: probes see NOT_SERVING until the coordinator is gone.
      await healthListener?.close();
    })());
  return { address, config, registry, jobs, dispatcher, discovery, jetstream: shared, metrics, healthAddress: healthListener?.address, close };
}

/**
 * The in-memory job store's outputs. Files left by an earlier run belong to
 * jobs this coordinator no longer knows (the store forgets them on restart):
 * they cannot be listed or downloaded through it, so say where they are.
 */
function localArtifacts(dir: string, log: Logger): LocalArtifactStore {
  const store = new LocalArtifactStore(dir);
  const left = store.contents();
  if (left.outputs + left.partial > 0) {
    log.warn('outputs of an earlier run are in the data directory; this coordinator keeps jobs in memory and cannot list or download them (copy or delete them; jobs on JetStream survive restarts)', {
      dir,
      outputs: left.outputs,
      unfinished: left.partial,
      bytes: left.bytes,
    });
  }
  return store;
}
