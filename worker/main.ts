import { createLogger, type LogLevel } from '../common/logger.ts';
import type { WorkerOptions } from './config.ts';
import { startWorker } from './server.ts';

/**
 * Runs a worker as a process: starts it, prints one JSON line
 * `{"event":"listening","address":...}` on stdout (how a parent process
 * learns a port-0 address), and drains on SIGTERM/SIGINT.
 */
export async function runWorkerProcess(options: WorkerOptions, level: LogLevel = 'info'): Promise<void> {
  const log = createLogger('worker', { level });
  const worker = await startWorker(options, log);
  process.stdout.write(JSON.stringify({ event: 'listening', address: worker.address, pid: process.pid }) + '\n');
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
