import { totalmem } from 'node:os';
import { z } from 'zod';
import { compileOptions } from '../common/compile-options.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/grpc-options.ts';
import { TENANT_NAME } from '../common/auth.ts';
import { clientTlsSchema, serverTlsSchema } from '../common/tls.ts';
import { workerBucketOptions } from '../common/worker-bucket-options.ts';
import { DEFAULT_LOST_RETENTION_MS } from './cluster/lost-workers.ts';
import { DEFAULT_JOB_LIMITS } from './jobs/limits.ts';
import { jetStreamOptionsSchema } from './jetstream/options.ts';

/** Coordinator options as a user gives them (CLI flags, config file). */
export const coordinatorOptionsSchema = z.object({
  /** host:port of the JobService; port 0 picks a free one. */
  listen: z.string().default('127.0.0.1:7400'),
  /**
   * host:port of a plaintext listener serving only grpc.health.v1 (common/health-listener.ts),
   * for probes that cannot speak TLS (kubelet); off when absent.
   */
  healthListen: z.string().regex(/^[^\s]*:\d+$/, 'must be host:port').optional(),
  /** Static worker addresses (host:port). */
  workers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).default([]),
  /** Outputs are written here. */
  dataDir: z.string().default('data'),
  maxConcurrentJobs: z.number().int().min(1).max(64).default(2),
  /**
   * Coordinator memory for running jobs, bytes: each reserves its estimate
   * (coordinator/jobs/memory-estimate.ts) while it runs and waits for room;
   * Submit refuses a job whose estimate exceeds it. Default: half the
   * machine's memory.
   */
  memoryBudgetBytes: z.number().int().min(1 << 20).default(() => Math.floor(totalmem() / 2)),
  /** The sampler of jobs that name none: `sequential`, or `auto` (Picard on the workers nobody else needs). */
  defaultSampler: z.enum(['sequential', 'auto']).default('sequential'),
  maxMessageBytes: z.number().int().min(1 << 20).default(DEFAULT_MAX_MESSAGE_BYTES),
  wireDtype: z.enum(['float16', 'float32']).default('float16'),
  maxInFlightPerWorker: z.number().int().min(1).max(64).default(2),
  batchTimeoutMs: z.number().int().min(100).default(120_000),
  maxAttempts: z.number().int().min(1).max(100).default(5),
  noWorkerTimeoutMs: z.number().int().min(0).default(30_000),
  workerProbeIntervalMs: z.number().int().min(50).default(2_000),
  /**
   * At start, with static workers none of which serves yet (started beside
   * the coordinator, still loading models: their ports refuse connections),
   * wait up to this long for one before accepting jobs, so the first Submit
   * knows the models.
   */
  workerStartWaitMs: z.number().int().min(0).default(30_000),
  /** Deadline of one heartbeat (Info) call. */
  infoTimeoutMs: z.number().int().min(50).default(5_000),
  maxConsecutiveFailures: z.number().int().min(1).default(3),
  /** A batch in flight longer than factor x the usual latency (and minMs) is duplicated on an idle worker. */
  stragglers: z
    .object({
      factor: z.number().min(1).default(3),
      minMs: z.number().int().min(0).default(2_000),
    })
    .default({ factor: 3, minMs: 2_000 }),
  /** Worker discovery through a NATS KV bucket, alongside the static list. */
  nats: z
    .object({
      ...workerBucketOptions,
      /** A worker whose announcement lapsed counts as lost (metrics, alert PropellerWorkerLost) this long unless it comes back. */
      lostRetentionMs: z.number().int().min(0).default(DEFAULT_LOST_RETENTION_MS),
    })
    .optional(),
  /**
   * Jobs on NATS JetStream instead of in memory: a work-queue stream of
   * submissions, a KV bucket of job records, an object store of outputs and
   * checkpoints, shared by every coordinator with the same servers and prefix.
   */
  jetstream: jetStreamOptionsSchema.optional(),
  decodeFramesPerCall: z.number().int().min(1).max(256).default(4),
  progressIntervalMs: z.number().int().min(0).default(200),
  limits: z
    .object({
      maxFrames: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxFrames),
      maxHeight: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxHeight),
      maxWidth: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxWidth),
      maxSteps: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxSteps),
      maxFps: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxFps),
      maxWindow: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxWindow),
      maxQueued: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxQueued),
      maxQueuedPerTenant: z.number().int().min(0).default(DEFAULT_JOB_LIMITS.maxQueuedPerTenant),
      maxActivePerTenant: z.number().int().min(0).default(DEFAULT_JOB_LIMITS.maxActivePerTenant),
      maxInputBytes: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxInputBytes),
      maxInputPixels: z.number().int().min(1).default(DEFAULT_JOB_LIMITS.maxInputPixels),
    })
    .default(DEFAULT_JOB_LIMITS),
  /**
   * Bearer-token tenants (common/auth.ts). No tokens at all: the JobService
   * is open (one tenant that sees everything; fine on loopback, warned about
   * elsewhere).
   */
  auth: z
    .object({
      /** File of `tenant:sha256hex[:admin]` lines, or JSON; read at start. */
      tokensFile: z.string().min(1).optional(),
      /** Stored tokens given inline (the CLI passes $PROPELLER_TOKENS here). */
      tokens: z
        .array(
          z.object({
            tenant: z.string().regex(TENANT_NAME, 'must be letters, digits, ".", "_" or "-" (at most 64)'),
            sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits (the token's SHA-256)"),
            admin: z.boolean().default(false),
          }),
        )
        .default([]),
    })
    .default({ tokens: [] }),
  /** TLS of the JobService (with `ca`: clients must present a certificate it signed). */
  tls: serverTlsSchema.optional(),
  /** TLS to the workers: the CA of their certificates and this coordinator's client certificate (mTLS). */
  workerTls: clientTlsSchema.optional(),
});

export type CoordinatorOptions = z.input<typeof coordinatorOptionsSchema>;
export type CoordinatorConfig = Readonly<z.output<typeof coordinatorOptionsSchema>>;

/** Defaults + validation; errors name the option. */
export function compileCoordinatorConfig(opts: CoordinatorOptions): CoordinatorConfig {
  return compileOptions(coordinatorOptionsSchema, opts, 'coordinator');
}
