import { readFileSync } from 'node:fs';
import { createLogger } from '../common/logger.ts';
import { serveMetrics } from '../common/metrics-server.ts';
import { startCoordinator } from '../coordinator/server.ts';
import type { CoordinatorOptions } from '../coordinator/config.ts';
import type { JetStreamOptions } from '../coordinator/jetstream/options.ts';
import { DEFAULT_ANNOUNCE_TTL_MS, DEFAULT_WORKER_BUCKET } from '../common/worker-announcement.ts';
import { intFlag, parse, stringFlags, type CliEnv } from './args.ts';
import { parseTenantTokens } from '../common/auth.ts';
import { SERVER_TLS_FLAGS, clientTlsFlags, serverTlsFlags } from './security-flags.ts';
import { exitOnSignal } from './exit-on-signal.ts';

const HELP = `propeller coordinator [options]
  --config FILE            JSON file of coordinator options (coordinator/config.ts); flags given override it
  --listen HOST:PORT       JobService address (default 127.0.0.1:7400; port 0 picks one)
  --workers A,B,...        worker addresses host:port
  --worker-start-wait-ms N at start, wait up to N ms for one of --workers to serve before accepting jobs (default 30000)
  --data-dir DIR           where outputs are written (default data)
  --max-jobs N             jobs run at once (default 2)
  --memory-budget-mb N     coordinator memory for running jobs (default half the machine's); a job waits for
                           room, and Submit refuses one whose estimate is larger (docs/security.md)
  --default-sampler sequential|auto  sampler of jobs that name none (default sequential); auto runs
                           Picard on the workers other jobs do not need, window chosen every round
  --wire-dtype float16|float32   latents on the wire (default float16)
  --nats URL[,URL]         discover workers through NATS (KV bucket of announcements), besides --workers
  --nats-bucket NAME       KV bucket of worker announcements (default propeller-workers)
  --nats-ttl-ms N          an announcement not refreshed for N ms counts as gone (default 10000)
  --nats-lost-retention-ms N  a worker gone without a drain counts as lost for N ms (default 3600000)
  --jobs memory|jetstream  where jobs live (default: jetstream with --nats or $PROPELLER_NATS_URL, else memory):
                           jetstream shares one queue, job records, outputs and checkpoints among coordinators
  --nats-prefix NAME       prefix of the JetStream stream, KV bucket and object store (default propeller)
  --nats-replicas 1|3|5    replicas of each (default 1; at most the NATS cluster's size)
  --nats-ack-wait-ms N     a job whose coordinator stops renewing it for N ms goes to another (default 30000)
  --checkpoint-interval-ms N  least time between sampler checkpoints of a job (default 10000; 0: every step)
  --retention-hours N      job records and outputs expire N hours after their last write (default 168; 0: never)
  --batch-timeout-ms N     deadline of one Evaluate call; a timed-out batch is re-sent elsewhere (default 120000)
  --max-attempts N         failed copies of one evaluation before its job fails (default 5)
  --probe-interval-ms N    heartbeat (Info) interval per worker (default 2000)
  --max-failures N         failed calls in a row before a worker is marked dead (default 3)
  --straggler-min-ms N     never duplicate a slow batch before N ms (default 2000; 3x the usual latency)
  --progress-interval-ms N least time between progress events of a job (default 200)
  --metrics-listen HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics (off by default; port 0 picks one)
  --health-listen HOST:PORT   also serve grpc.health.v1 alone, without TLS, there (for kubelet gRPC probes of a TLS server)
  --tokens-file FILE       bearer-token tenants, lines tenant:sha256hex[:admin] (propeller token makes them);
                           $PROPELLER_TOKENS adds entries (comma-separated). None at all: no authentication
  --tls-cert FILE --tls-key FILE  serve the JobService over TLS
  --tls-ca FILE            with TLS: also require client certificates signed by this CA
  --worker-tls-ca FILE     talk TLS to the workers, checking their certificates against this CA
  --worker-tls-cert FILE --worker-tls-key FILE  client certificate for workers that require one (mTLS)
Prints {"event":"listening","address":...} on stdout once serving; stops on SIGTERM/SIGINT.`;

/** `propeller coordinator`: runs a coordinator until a signal. Returns -1 (keep running) or an exit code. */
export async function runCoordinatorProcess(args: string[], env: CliEnv, natsUrl?: string): Promise<number> {
  const { values } = parse(args, {
    ...stringFlags('config', 'listen', 'workers', 'data-dir', 'jobs', 'nats-prefix', 'nats-replicas', 'nats-ack-wait-ms', 'checkpoint-interval-ms', 'retention-hours', 'max-jobs', 'default-sampler', 'memory-budget-mb', 'wire-dtype', 'nats', 'nats-bucket', 'nats-ttl-ms', 'nats-lost-retention-ms', 'batch-timeout-ms', 'max-attempts', 'probe-interval-ms', 'worker-start-wait-ms', 'max-failures', 'straggler-min-ms', 'progress-interval-ms', 'metrics-listen', 'health-listen', 'tokens-file', 'worker-tls-ca', 'worker-tls-cert', 'worker-tls-key'),
    ...SERVER_TLS_FLAGS,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const log = createLogger('coordinator', { level: env.logLevel });
  // The config file first, then every flag given; zod fills in the rest.
  const file: CoordinatorOptions = values.config ? JSON.parse(readFileSync(values.config as string, 'utf8')) : {};
  const int = (name: string) => (values[name] === undefined ? undefined : intFlag(name, values[name]));
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const natsServers = (values.nats as string | undefined) ?? file.nats?.servers ?? file.jetstream?.servers ?? natsUrl;
  const jobsBackend = (values.jobs as string | undefined) ?? (file.jetstream || natsServers ? 'jetstream' : 'memory');
  if (jobsBackend !== 'memory' && jobsBackend !== 'jetstream') throw new Error(`--jobs must be memory or jetstream, got "${jobsBackend}"`);
  if (jobsBackend === 'jetstream' && !natsServers) throw new Error('--jobs jetstream needs --nats URL (or $PROPELLER_NATS_URL)');
  const retentionHours = int('retention-hours');
  const jetstream: JetStreamOptions | undefined =
    jobsBackend === 'jetstream'
      ? {
          ...file.jetstream,
          servers: natsServers!,
          ...defined({
            prefix: values['nats-prefix'] as string | undefined,
            replicas: int('nats-replicas') as 1 | 3 | 5 | undefined,
            ackWaitMs: int('nats-ack-wait-ms'),
            checkpointIntervalMs: int('checkpoint-interval-ms'),
            retentionMs: retentionHours === undefined ? undefined : retentionHours * 3600_000,
          }),
        }
      : undefined;
  const coordinator = await startCoordinator(
    {
      ...file,
      ...defined({
        listen: values.listen as string | undefined,
        healthListen: values['health-listen'] as string | undefined,
        workers: values.workers === undefined ? undefined : (values.workers as string).split(',').filter(Boolean),
        dataDir: values['data-dir'] as string | undefined,
        maxConcurrentJobs: int('max-jobs'),
        defaultSampler: values['default-sampler'] as 'sequential' | 'auto' | undefined,
        memoryBudgetBytes: int('memory-budget-mb') === undefined ? undefined : int('memory-budget-mb')! * 1024 * 1024,
        wireDtype: values['wire-dtype'] as 'float16' | 'float32' | undefined,
        batchTimeoutMs: int('batch-timeout-ms'),
        maxAttempts: int('max-attempts'),
        workerProbeIntervalMs: int('probe-interval-ms'),
        workerStartWaitMs: int('worker-start-wait-ms'),
        maxConsecutiveFailures: int('max-failures'),
        progressIntervalMs: int('progress-interval-ms'),
      }),
      stragglers: { ...file.stragglers, ...defined({ minMs: int('straggler-min-ms') }) },
      nats: natsServers
        ? {
            servers: natsServers,
            bucket: (values['nats-bucket'] as string | undefined) ?? file.nats?.bucket ?? DEFAULT_WORKER_BUCKET,
            ttlMs: int('nats-ttl-ms') ?? file.nats?.ttlMs ?? DEFAULT_ANNOUNCE_TTL_MS,
            lostRetentionMs: int('nats-lost-retention-ms') ?? file.nats?.lostRetentionMs,
          }
        : undefined,
      jetstream,
      auth: {
        tokensFile: (values['tokens-file'] as string | undefined) ?? file.auth?.tokensFile,
        tokens: [...(file.auth?.tokens ?? []), ...(env.tokens ? parseTenantTokens(env.tokens, 'PROPELLER_TOKENS') : [])],
      },
      tls: serverTlsFlags(values) ?? file.tls,
      workerTls: clientTlsFlags(values, 'worker-tls-') ?? file.workerTls,
    },
    log,
  );
  const metricsListen = values['metrics-listen'] as string | undefined;
  const metrics = metricsListen ? await serveMetrics(coordinator.metrics.registry, metricsListen, { log: log.child('metrics'), processMetrics: true }) : undefined;
  process.stdout.write(JSON.stringify({ event: 'listening', address: coordinator.address, pid: process.pid, ...(metrics ? { metrics: metrics.address } : {}) }) + '\n');
  exitOnSignal(() => {
    void metrics?.close();
    return coordinator.close();
  });
  return -1;
}
