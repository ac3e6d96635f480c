import { createLogger, type LogLevel } from '../common/logger.ts';
import { serveMetrics } from '../common/metrics-server.ts';
import type { WorkerOptions } from './config.ts';
import { startWorker } from './server.ts';

/**
 * Runs a worker as a process: starts it, prints one JSON line
 * `{"event":"listening","address":...}` on stdout (how a parent process
 * learns a port-0 address), and drains on SIGTERM/SIGINT. With
 * `metricsListen` (host:port) it serves Prometheus metrics on `/metrics`
 * there too; the line then carries `"metrics":"host:port"`.
 */
export async function runWorkerProcess(options: WorkerOptions, level: LogLevel = 'info', metricsListen?: string): Promise<void> {
  const log = createLogger('worker', { level });
  const worker = await startWorker(options, log);
  const metrics = metricsListen ? await serveMetrics(worker.metrics.registry, metricsListen, { log: log.child('metrics'), processMetrics: true }) : undefined;
  process.stdout.write(JSON.stringify({ event: 'listening', address: worker.address, pid: process.pid, ...(metrics ? { metrics: metrics.address } : {}) }) + '\n');
  const stop = (signal: string) => {
    log.info('signal received, draining', { signal });
    worker.drain().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('drain failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
