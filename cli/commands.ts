/**
 * The `propeller` commands: usage and dispatch. main.ts reads the
 * environment and runs them.
 */
import { parse, type CliEnv } from './args.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import { runJobCommand, JOB_COMMANDS } from './job-commands.ts';
import { runDemo, runUp } from './embedded.ts';
import { runWorkerProcess } from '../worker/main.ts';
import { SIM_PROFILES, describeSimProfile, simProfileNames } from '../worker/sim-profiles.ts';
import { runCoordinatorProcess } from './coordinator-process.ts';
import { runTokenCommand } from './token-command.ts';
import { runModelsBuild } from './models-command.ts';
import { SERVER_TLS_FLAGS, serverTlsFlags } from './security-flags.ts';

const USAGE = `propeller — distributed sampling cluster for video diffusion models

Usage: propeller <command> [options]

Cluster
  demo                     start an embedded cluster, render out/demo.mp4, stop
  up                       start an embedded cluster (coordinator + N workers) until Ctrl-C
  coordinator              run a coordinator (--workers host:port,...)
  worker                   run a worker (--models DIR)
  models build             build the reference models or --standins NAME,...; prints model directories

Jobs (talk to --address, default $PROPELLER_ADDRESS or 127.0.0.1:7400)
  submit [--wait]          submit a job; --wait shows progress and downloads the output
  watch ID                 follow a job's progress
  get ID                   show a job as JSON
  ls                       list jobs
  cancel ID                cancel a job
  download ID --out FILE   download a job's output
  workers                  list workers
  models                   list the cluster's models
  (job commands take --token T or $PROPELLER_TOKEN, --tls-ca FILE or $PROPELLER_TLS_CA for a TLS coordinator,
   and --connect-timeout S: how long to wait for the coordinator to accept connections, default 10)

Security
  token --tenant NAME      make a bearer token; prints it and the line for the coordinator's tokens file

Run 'propeller <command> --help' for a command's options.`;

/**
 * Runs one `propeller` command. Resolves with the exit code, or -1 for a
 * server that keeps running until a signal.
 */
export async function runCli(argv: string[], env: CliEnv, natsUrl?: string): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  switch (command) {
    case 'demo':
      return runDemo(rest, env);
    case 'up':
      return runUp(rest, env);
    case 'token':
      return runTokenCommand(rest);
    case 'models':
      // `models build` runs here; plain `models` lists the cluster's models (a job command).
      if (rest[0] === 'build') return runModelsBuild(rest.slice(1), env);
      return runJobCommand(command, rest, env);
    case 'coordinator':
      // natsUrl ($PROPELLER_NATS_URL): NATS for worker discovery and, unless --jobs memory, jobs on JetStream.
      return runCoordinatorProcess(rest, env, natsUrl);
    case 'worker': {
      const { values } = parse(rest, {
        listen: { type: 'string', default: '127.0.0.1:7401' },
        models: { type: 'string' },
        device: { type: 'string', default: 'cpu' },
        threads: { type: 'string', default: '1' },
        'max-batch': { type: 'string', default: '16' },
        id: { type: 'string' },
        advertise: { type: 'string' },
        nats: { type: 'string' },
        'nats-bucket': { type: 'string' },
        'fail-rate': { type: 'string' },
        'metrics-listen': { type: 'string' },
        'health-listen': { type: 'string' },
        'gpu-uuid': { type: 'string' },
        ...SERVER_TLS_FLAGS,
      });
      if (values.help) {
        process.stdout.write(
          'propeller worker [--listen HOST:PORT] [--models DIR,...] [--device cpu|cuda:N|sim:PROFILE] [--threads N] [--max-batch N] [--id NAME]\n' +
            '  --tls-cert FILE --tls-key FILE  serve over TLS with this PEM certificate and key\n' +
            '  --tls-ca FILE  with TLS: require client certificates signed by this CA (mTLS; coordinators then need --worker-tls-cert/--worker-tls-key)\n' +
            '  Without --models, serves the reference models, built into $PROPELLER_MODEL_DIR (default .cache/models).\n' +
            '  --nats URL[,URL] [--nats-bucket NAME]  announce this worker in a NATS KV bucket (refreshed every 2 s, deleted on drain)\n' +
            '  --advertise HOST:PORT  address announced to coordinators (default: the bound address)\n' +
            '  --metrics-listen HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics (off by default; port 0 picks one)\n' +
            '  --health-listen HOST:PORT  also serve grpc.health.v1 alone, without TLS, there (for kubelet gRPC probes of a TLS worker)\n' +
            '  --gpu-uuid GPU-...  UUID of the GPU this worker owns, the gpu_uuid label of propeller_worker_info that joins DCGM GPU metrics\n' +
            '    (default $PROPELLER_GPU_UUID, else $NVIDIA_VISIBLE_DEVICES when it names one GPU by UUID, as the Kubernetes device plugin sets it)\n' +
            '  --fail-rate R  TESTING AID: fail that share (0-1) of Evaluate calls on purpose, deterministically\n' +
            `  --device sim:PROFILE simulates a GPU: real outputs computed on the CPU, then each batch waits out the\n  profile's modelled latency (a simulation, for measuring scaling). Profiles:\n` +
            simProfileNames()
              .map((n) => `    ${describeSimProfile(SIM_PROFILES[n]!)}\n`)
              .join(''),
        );
        return 0;
      }
      const modelDirs = (values.models as string | undefined)?.split(',') ?? [await ensureReferenceModels(env.modelDir)];
      await runWorkerProcess(
        {
          listen: values.listen as string,
          healthListen: values['health-listen'] as string | undefined,
          gpuUuid: (values['gpu-uuid'] as string | undefined) ?? env.gpuUuid,
          modelDirs,
          device: values.device as string,
          intraOpThreads: Number(values.threads),
          maxBatch: Number(values['max-batch']),
          workerId: values.id as string | undefined,
          advertise: values.advertise as string | undefined,
          nats: values.nats ? { servers: values.nats as string, bucket: values['nats-bucket'] as string | undefined } : undefined,
          failRate: values['fail-rate'] === undefined ? 0 : Number(values['fail-rate']),
          tls: serverTlsFlags(values),
        },
        env.logLevel,
        values['metrics-listen'] as string | undefined,
      );
      return -1; // keeps running until a signal
    }
    default:
      if (JOB_COMMANDS.includes(command)) return runJobCommand(command, rest, env);
      process.stderr.write(`propeller: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

