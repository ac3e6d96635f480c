import { createLogger } from '../common/logger.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { DEFAULT_ANNOUNCE_TTL_MS, DEFAULT_WORKER_BUCKET } from '../common/worker-announcement.ts';
import { intFlag, parse, type CliEnv } from './args.ts';

const HELP = `propeller coordinator [options]
  --listen HOST:PORT       JobService address (default 127.0.0.1:7400; port 0 picks one)
  --workers A,B,...        worker addresses host:port
  --data-dir DIR           where outputs are written (default data)
  --max-jobs N             jobs run at once (default 2)
  --wire-dtype float16|float32   latents on the wire (default float16)
  --nats URL[,URL]         discover workers through NATS (KV bucket of announcements), besides --workers
  --nats-bucket NAME       KV bucket of worker announcements (default propeller-workers)
  --nats-ttl-ms N          an announcement not refreshed for N ms counts as gone (default 10000)
  --batch-timeout-ms N     deadline of one Evaluate call; a timed-out batch is re-sent elsewhere (default 120000)
  --max-attempts N         failed copies of one evaluation before its job fails (default 5)
  --probe-interval-ms N    heartbeat (Info) interval per worker (default 2000)
  --max-failures N         failed calls in a row before a worker is marked dead (default 3)
  --straggler-min-ms N     never duplicate a slow batch before N ms (default 2000; 3x the usual latency)
  --progress-interval-ms N least time between progress events of a job (default 200)
Prints {"event":"listening","address":...} on stdout once serving; stops on SIGTERM/SIGINT.`;

/** `propeller coordinator`: runs a coordinator until a signal. Returns -1 (keep running) or an exit code. */
export async function runCoordinatorProcess(args: string[], env: CliEnv): Promise<number> {
  const { values } = parse(args, {
    listen: { type: 'string', default: '127.0.0.1:7400' },
    workers: { type: 'string', default: '' },
    'data-dir': { type: 'string', default: 'data' },
    'max-jobs': { type: 'string' },
    'wire-dtype': { type: 'string' },
    nats: { type: 'string' },
    'nats-bucket': { type: 'string' },
    'nats-ttl-ms': { type: 'string' },
    'batch-timeout-ms': { type: 'string' },
    'max-attempts': { type: 'string' },
    'probe-interval-ms': { type: 'string' },
    'max-failures': { type: 'string' },
    'straggler-min-ms': { type: 'string' },
    'progress-interval-ms': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const log = createLogger('coordinator', { level: env.logLevel });
  const coordinator = await startCoordinator(
    {
      listen: values.listen as string,
      workers: (values.workers as string).split(',').filter(Boolean),
      dataDir: values['data-dir'] as string,
      maxConcurrentJobs: intFlag('max-jobs', values['max-jobs'], 2),
      wireDtype: (values['wire-dtype'] as 'float16' | 'float32' | undefined) ?? 'float16',
      batchTimeoutMs: intFlag('batch-timeout-ms', values['batch-timeout-ms'], 120_000),
      maxAttempts: intFlag('max-attempts', values['max-attempts'], 5),
      workerProbeIntervalMs: intFlag('probe-interval-ms', values['probe-interval-ms'], 2_000),
      maxConsecutiveFailures: intFlag('max-failures', values['max-failures'], 3),
      stragglers: { minMs: intFlag('straggler-min-ms', values['straggler-min-ms'], 2_000) },
      progressIntervalMs: intFlag('progress-interval-ms', values['progress-interval-ms'], 200),
      nats: values.nats
        ? {
            servers: values.nats as string,
            bucket: (values['nats-bucket'] as string | undefined) ?? DEFAULT_WORKER_BUCKET,
            ttlMs: intFlag('nats-ttl-ms', values['nats-ttl-ms'], DEFAULT_ANNOUNCE_TTL_MS),
          }
        : undefined,
    },
    log,
  );
  process.stdout.write(JSON.stringify({ event: 'listening', address: coordinator.address, pid: process.pid }) + '\n');
  const stop = () => {
    coordinator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
