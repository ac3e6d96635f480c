import { z } from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/grpc-options.ts';

/** Worker options as a user gives them (CLI flags, config file). */
export const workerOptionsSchema = z.object({
  /** host:port to listen on; port 0 picks a free one. */
  listen: z.string().default('127.0.0.1:0'),
  /** Directories holding models (each model a folder with manifest.json). */
  modelDirs: z.array(z.string()).min(1),
  /** "cpu", "cuda" or "cuda:N". */
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, 'must be cpu, cuda or cuda:N').default('cpu'),
  intraOpThreads: z.number().int().min(1).max(256).default(1),
  interOpThreads: z.number().int().min(1).max(64).default(1),
  maxBatch: z.number().int().min(1).max(1024).default(16),
  maxItemsPerCall: z.number().int().min(1).max(4096).default(256),
  maxMessageBytes: z.number().int().min(1 << 20).default(DEFAULT_MAX_MESSAGE_BYTES),
  workerId: z.string().min(1).optional(),
  /** Grace period for draining before a forced shutdown, ms. */
  drainTimeoutMs: z.number().int().min(0).default(30_000),
});

export type WorkerOptions = z.input<typeof workerOptionsSchema>;
export type WorkerConfig = Readonly<z.output<typeof workerOptionsSchema>>;

/** Defaults + validation; errors name the option. */
export function compileWorkerConfig(opts: WorkerOptions): WorkerConfig {
  const parsed = workerOptionsSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`worker option ${issue.path.join('.')}: ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}
