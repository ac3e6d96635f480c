/**
 * Options of the JetStream job backend, and the names of what it creates.
 *
 * Everything lives under one prefix (default `propeller`), so several
 * clusters, or tests, share a NATS server without meeting:
 *
 * - stream `<prefix>-submissions` (work queue, subjects `<prefix>.submit.<band>`)
 *   with one durable pull consumer per priority band, `<prefix>-coordinators-<band>`;
 * - KV bucket `<prefix>-jobs`: job records `job.<id>`, client request ids
 *   `req.<sha256>`, cancel requests `cancel.<id>`;
 * - object store `<prefix>-artifacts`: outputs `outputs/<id>`, sampler
 *   checkpoints `checkpoints/<id>`.
 */
import { z } from 'zod';

export const DEFAULT_JETSTREAM_PREFIX = 'propeller';
/** Ack deadline of a taken job; a coordinator renews it every third of it. */
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;
/** How long job records and artifacts are kept after their last write (7 days). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Submissions the stream holds at most (queued and running); further submits are refused. */
export const DEFAULT_MAX_SUBMISSIONS = 100_000;
/** Window in which a second submission of one job id is dropped by the stream. */
export const SUBMISSION_DEDUP_WINDOW_MS = 2 * 60_000;

export const jetStreamOptionsSchema = z.object({
  /** NATS server URLs, comma-separated. */
  servers: z.string().min(1),
  /** Prefix of every stream, consumer and bucket name. */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9][-\w]*$/, 'must be letters, digits, "-" or "_"')
    .max(64)
    .default(DEFAULT_JETSTREAM_PREFIX),
  /** Replicas of the stream, the KV bucket and the object store (1, 3 or 5; at most the cluster's size). */
  replicas: z.union([z.literal(1), z.literal(3), z.literal(5)]).default(1),
  ackWaitMs: z.number().int().min(1_000).default(DEFAULT_ACK_WAIT_MS),
  /** Least time between two checkpoints of a running job (0: after every step or Picard round). */
  checkpointIntervalMs: z.number().int().min(0).default(DEFAULT_CHECKPOINT_INTERVAL_MS),
  /** Job records and artifacts expire this long after their last write; 0 keeps them forever. */
  retentionMs: z.number().int().min(0).default(DEFAULT_RETENTION_MS),
  maxSubmissions: z.number().int().min(1).default(DEFAULT_MAX_SUBMISSIONS),
  /** Size limit of the object store in bytes (-1: none). */
  maxArtifactBytes: z.number().int().min(-1).default(-1),
});

export type JetStreamOptions = z.input<typeof jetStreamOptionsSchema>;
export type JetStreamConfig = Readonly<z.output<typeof jetStreamOptionsSchema>>;

/** Priority bands, highest first: one subject and one consumer each. */
export const PRIORITY_BANDS = ['high', 'normal', 'low'] as const;
export type PriorityBand = (typeof PRIORITY_BANDS)[number];

/** Priority > 0 is `high`, 0 `normal`, < 0 `low` (FIFO within a band). */
export function priorityBand(priority: number): PriorityBand {
  return priority > 0 ? 'high' : priority < 0 ? 'low' : 'normal';
}

/** Names of everything the backend creates under `prefix`. */
export function jetStreamNames(prefix: string) {
  return {
    stream: `${prefix}-submissions`,
    subject: (band: PriorityBand) => `${prefix}.submit.${band}`,
    subjects: `${prefix}.submit.*`,
    consumer: (band: PriorityBand) => `${prefix}-coordinators-${band}`,
    jobs: `${prefix}-jobs`,
    artifacts: `${prefix}-artifacts`,
  };
}

export type JetStreamNames = ReturnType<typeof jetStreamNames>;
