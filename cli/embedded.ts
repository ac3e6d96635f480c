import { createLogger, type Logger } from '../common/logger.ts';
import { serveMetrics, type MetricsServer } from '../common/metrics-server.ts';
import { startCoordinator, type CoordinatorHandle } from '../coordinator/server.ts';
import { probeVideo } from '../coordinator/video/probe.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import { intFlag, parse, type CliEnv } from './args.ts';
import { JobClient } from './job-client.ts';
import { seedFlag } from './job-spec-flags.ts';
import { followAndDownload } from './job-commands.ts';
import { spawnCliServer, type ChildServer } from './worker-process.ts';
import { exitOnSignal } from './exit-on-signal.ts';

/** A coordinator in this process plus worker processes on loopback. */
export interface EmbeddedCluster {
  readonly address: string;
  readonly coordinator: CoordinatorHandle;
  readonly workers: readonly ChildServer[];
  /** `/metrics` addresses (host:port) of the coordinator and each worker, when started with `metricsListen`. */
  readonly metrics: { coordinator: string; workers: string[] } | undefined;
  stop(): Promise<void>;
}

/**
 * Starts an embedded cluster: builds the reference models if needed, spawns
 * `workers` worker processes on free loopback ports, and a coordinator here.
 */
export async function startEmbeddedCluster(opts: {
  workers: number;
  modelDir: string;
  listen: string;
  dataDir: string;
  threadsPerWorker: number;
  log: Logger;
  workerLogLevel: string;
  /** Device of every worker: cpu (default) or a simulated GPU, sim:<profile>. */
  device?: string;
  /** Serve Prometheus metrics: the coordinator's here (host:port, port 0 picks one), each worker's on a free loopback port. */
  metricsListen?: string;
  /** More model directories every worker serves beside the reference models (e.g. stand-ins). */
  extraModelDirs?: readonly string[];
}): Promise<EmbeddedCluster> {
  const modelDirs = [await ensureReferenceModels(opts.modelDir), ...(opts.extraModelDirs ?? [])].join(',');
  const started = await Promise.allSettled(
    Array.from({ length: opts.workers }, (_, i) =>
      spawnCliServer(
        ['worker', '--listen', '127.0.0.1:0', '--models', modelDirs, '--threads', String(opts.threadsPerWorker), '--id', `worker-${i}`, '--device', opts.device ?? 'cpu', ...(opts.metricsListen ? ['--metrics-listen', '127.0.0.1:0'] : [])],
        {
          env: { PROPELLER_LOG_LEVEL: opts.workerLogLevel },
          stderr: (line) => process.stderr.write(`[worker-${i}] ${line}\n`),
          // Dozens of workers starting at once on two cores take a while.
          startTimeoutMs: 60_000 + 2_000 * opts.workers,
        },
      ),
    ),
  );
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // One worker that cannot start fails the cluster; the others are stopped, not left running.
    await Promise.all(workers.map((w) => w.stop()));
    throw failed.reason;
  }
  let coordinator: CoordinatorHandle;
  try {
    coordinator = await startCoordinator({ listen: opts.listen, workers: workers.map((w) => w.address), dataDir: opts.dataDir }, opts.log);
  } catch (err) {
    // e.g. the listen address is taken: the workers go too.
    await Promise.all(workers.map((w) => w.stop()));
    throw err;
  }
  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = opts.metricsListen ? await serveMetrics(coordinator.metrics.registry, opts.metricsListen, { log: opts.log.child('metrics'), processMetrics: true }) : undefined;
  } catch (err) {
    await coordinator.close();
    await Promise.all(workers.map((w) => w.stop()));
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    address: coordinator.address,
    coordinator,
    workers,
    metrics: metricsServer ? { coordinator: metricsServer.address, workers: workers.map((w) => w.metrics ?? '') } : undefined,
    stop: () =>
      (stopping ??= (async () => {
        await metricsServer?.close();
        await coordinator.close();
        await Promise.all(workers.map((w) => w.stop()));
      })()),
  };
}

/** `propeller up`: an embedded cluster until Ctrl-C. */
export async function runUp(args: string[], env: CliEnv): Promise<number> {
  const { values } = parse(args, {
    workers: { type: 'string', default: '2' },
    listen: { type: 'string', default: '127.0.0.1:7400' },
    'data-dir': { type: 'string', default: 'data' },
    threads: { type: 'string', default: '1' },
    device: { type: 'string', default: 'cpu' },
    'metrics-listen': { type: 'string' },
    models: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(
      'propeller up [--workers N] [--listen HOST:PORT] [--data-dir DIR] [--threads N per worker] [--device cpu|sim:PROFILE] [--metrics-listen HOST:PORT] [--models DIR,...]\n' +
        "  --metrics-listen: the coordinator's Prometheus metrics there, each worker's on a free loopback port (printed)\n" +
        "  --models: more model directories every worker serves beside the reference models, e.g. the stand-ins\n" +
        "            that 'propeller models build --standins NAME,...' prints\n",
    );
    return 0;
  }
  const log = createLogger('coordinator', { level: env.logLevel });
  const cluster = await startEmbeddedCluster({
    workers: intFlag('workers', values.workers),
    modelDir: env.modelDir,
    listen: values.listen as string,
    dataDir: values['data-dir'] as string,
    threadsPerWorker: intFlag('threads', values.threads),
    log,
    workerLogLevel: env.logLevel,
    device: values.device as string,
    metricsListen: values['metrics-listen'] as string | undefined,
    extraModelDirs: (values.models as string | undefined)?.split(',').filter(Boolean),
  });
  process.stdout.write(JSON.stringify({ event: 'listening', address: cluster.address, workers: cluster.workers.map((w) => w.address), ...(cluster.metrics ? { metrics: cluster.metrics } : {}) }) + '\n');
  process.stderr.write(`cluster up at ${cluster.address} with ${cluster.workers.length} workers; try: npx propeller submit --wait --prompt clouds\n`);
  exitOnSignal(() => cluster.stop());
  return -1;
}

/** `propeller demo`: embedded cluster, one job, out/demo.mp4 and its contact sheet out/demo.png, shut down. */
export async function runDemo(args: string[], env: CliEnv): Promise<number> {
  const { values } = parse(args, {
    workers: { type: 'string', default: '2' },
    out: { type: 'string', default: 'out/demo.mp4' },
    steps: { type: 'string', default: '25' },
    seed: { type: 'string', default: '7' },
  });
  if (values.help) {
    process.stdout.write('propeller demo [--workers N] [--out FILE] [--steps N] [--seed N]\n  Renders 48 frames at 256x256, 24 fps: clouds, then fire from frame 24; live previews, then a contact\n  sheet of the video, go to FILE with the extension .png (default out/demo.png).\n');
    return 0;
  }
  const started = performance.now();
  const quiet = env.logLevel === 'info' ? 'warn' : env.logLevel;
  const log = createLogger('coordinator', { level: quiet });
  process.stderr.write('starting an embedded cluster (building reference models on first run)...\n');
  const cluster = await startEmbeddedCluster({
    workers: intFlag('workers', values.workers),
    modelDir: env.modelDir,
    listen: '127.0.0.1:0',
    dataDir: 'data',
    threadsPerWorker: 1,
    log,
    workerLogLevel: quiet,
  });
  const client = new JobClient(cluster.address);
  try {
    process.stderr.write(`cluster up at ${cluster.address} with ${cluster.workers.length} workers\n`);
    const job = await client.submit({
      model: 'field-mixture',
      promptSchedule: [
        { fromFrame: 0, prompt: 'clouds' },
        { fromFrame: 24, prompt: 'fire' },
      ],
      frames: 48,
      height: 256,
      width: 256,
      fps: 24,
      steps: intFlag('steps', values.steps),
      seed: seedFlag(values.seed),
      output: { format: 'mp4' },
      previews: { everySeconds: 2 },
    });
    process.stderr.write(`job ${job.id}: 48 frames 256x256, "clouds" then "fire" from frame 24\n`);
    const code = await followAndDownload(client, job, values.out as string, (values.out as string).replace(/(\.[^./]*)?$/, '.png'));
    if (code !== 0) return code;
    const probe = await probeVideo(values.out as string);
    process.stderr.write(
      `${values.out}: ${probe.codec} ${probe.width}x${probe.height}, ${probe.frames} frames, ${probe.fps} fps; demo took ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    client.close();
    await cluster.stop();
  }
}
