import { z } from 'zod';
import { compileOptions } from '../common/compile-options.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/grpc-options.ts';
import { serverTlsSchema } from '../common/tls.ts';
import { DEFAULT_ANNOUNCE_INTERVAL_MS } from '../common/worker-announcement.ts';
import { workerBucketOptions } from '../common/worker-bucket-options.ts';
import { isSimDevice, simDeviceProblem } from './sim-profiles.ts';
import { GPU_UUID } from './gpu-identity.ts';

/** "cpu", "cuda", "cuda:N", or a simulated GPU "sim:<profile>" (see sim-profiles.ts). */
const deviceSchema = z
  .string()
  .default('cpu')
  .superRefine((device, ctx) => {
    if (isSimDevice(device)) {
      const problem = simDeviceProblem(device);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    } else if (!/^(cpu|cuda(:\d+)?)$/.test(device)) {
      ctx.addIssue({ code: 'custom', message: `must be cpu, cuda, cuda:N or sim:<profile>, got "${device}"` });
    }
  });

/** Worker options as a user gives them (CLI flags, config file). */
export const workerOptionsSchema = z.object({
  /** host:port to listen on; port 0 picks a free one. */
  listen: z.string().default('127.0.0.1:0'),
  /**
   * host:port of a plaintext listener serving only grpc.health.v1 (common/health-listener.ts),
   * for probes that cannot speak TLS (kubelet); off when absent.
   */
  healthListen: z.string().regex(/^[^\s]*:\d+$/, 'must be host:port').optional(),
  /**
   * UUID of the GPU this worker owns (`GPU-...`, as `nvidia-smi -L` and the DCGM exporter's
   * `UUID` label show): the `gpu_uuid` label of its info metric, which joins GPU telemetry to it.
   */
  gpuUuid: z.string().regex(GPU_UUID, 'must be a GPU UUID like GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256').optional(),
  /** Directories holding models (each model a folder with manifest.json). */
  modelDirs: z.array(z.string()).min(1),
  /**
   * "cpu", "cuda" or "cuda:N"; or "sim:<profile>", a simulated GPU: real
   * outputs computed on the CPU, latency from the profile's model.
   */
  device: deviceSchema,
  intraOpThreads: z.number().int().min(1).max(256).default(1),
  interOpThreads: z.number().int().min(1).max(64).default(1),
  maxBatch: z.number().int().min(1).max(1024).default(16),
  maxItemsPerCall: z.number().int().min(1).max(4096).default(256),
  maxMessageBytes: z.number().int().min(1 << 20).default(DEFAULT_MAX_MESSAGE_BYTES),
  workerId: z.string().min(1).optional(),
  /** Grace period for draining before a forced shutdown, ms. */
  drainTimeoutMs: z.number().int().min(0).default(30_000),
  /** host:port coordinators should dial (default: the bound address); announced through NATS. */
  advertise: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').optional(),
  /** Announce this worker in a NATS KV bucket (see worker/nats-announcer.ts). */
  nats: z
    .object({
      ...workerBucketOptions,
      intervalMs: z.number().int().min(100).default(DEFAULT_ANNOUNCE_INTERVAL_MS),
    })
    .refine((n) => n.intervalMs < n.ttlMs, 'intervalMs must be shorter than ttlMs')
    .optional(),
  /**
   * TLS of the DenoiserService. With `ca` every client must present a
   * certificate that CA signed (mutual TLS): only coordinators holding one
   * may use this worker.
   */
  tls: serverTlsSchema.optional(),
  /** TESTING AID: share of Evaluate calls that fail on purpose (worker/fault-injection.ts). 0 in production. */
  failRate: z.number().min(0).max(1).default(0),
});

export type WorkerOptions = z.input<typeof workerOptionsSchema>;
export type WorkerConfig = Readonly<z.output<typeof workerOptionsSchema>>;

/** Defaults + validation; errors name the option. */
export function compileWorkerConfig(opts: WorkerOptions): WorkerConfig {
  return compileOptions(workerOptionsSchema, opts, 'worker');
}
