import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { hostname } from 'node:os';
import { messageLimitOptions } from '../common/grpc-options.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { PROPELLER_VERSION } from '../common/version.ts';
import { compileWorkerConfig, type WorkerConfig, type WorkerOptions } from './config.ts';
import { DenoiserService } from './denoiser-service.ts';
import { WorkerLifecycle } from './lifecycle.ts';
import { loadModels } from './model-registry.ts';

/** A running worker. */
export interface WorkerHandle {
  readonly address: string;
  readonly config: WorkerConfig;
  readonly service: DenoiserService;
  readonly lifecycle: WorkerLifecycle;
  /** Stops taking new calls, finishes in-flight ones, shuts down. Idempotent. */
  drain(): Promise<void>;
}

/**
 * Starts a worker: loads every model (one session each), binds the
 * DenoiserService and the standard health service, and starts serving.
 */
export async function startWorker(options: WorkerOptions, log: Logger = createLogger('worker')): Promise<WorkerHandle> {
  const config = compileWorkerConfig(options);
  const lifecycle = new WorkerLifecycle(log);
  const models = await loadModels(config.modelDirs, { device: config.device, intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads }, log);
  if (models.size === 0) {
    lifecycle.set('failed', 'no models');
    throw new Error(`no models found under ${config.modelDirs.join(', ')}`);
  }
  const server = new grpc.Server(messageLimitOptions(config.maxMessageBytes));
  const health = new HealthImplementation({ '': 'NOT_SERVING', 'propeller.v1.DenoiserService': 'NOT_SERVING' });
  health.addToServer(server);
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
  });
  service.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = config.listen.slice(0, config.listen.lastIndexOf(':'));
  const address = `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${port}`;
  lifecycle.set('serving', `listening on ${address}`);
  health.setStatus('', 'SERVING');
  health.setStatus('propeller.v1.DenoiserService', 'SERVING');

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    drained ??= (async () => {
      lifecycle.set('draining');
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('propeller.v1.DenoiserService', 'NOT_SERVING');
      const deadline = Date.now() + config.drainTimeoutMs;
      while (service.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, Math.max(100, deadline - Date.now()));
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      for (const m of models.values()) {
        try {
          await m.session?.release();
        } catch (err) {
          log.warn('session release failed', { model: m.name, error: err });
        }
      }
      lifecycle.set('stopped');
    })();
    return drained;
  };
  return { address, config, service, lifecycle, drain };
}
