import { z } from 'zod';

/**
 * What a worker announces about itself in the NATS KV bucket, shared by
 * the worker (writer) and the coordinator (reader). One key per worker; the
 * bucket's TTL removes the entries of workers that stop refreshing them.
 */

/** Default KV bucket of worker announcements. */
export const DEFAULT_WORKER_BUCKET = 'propeller-workers';
/** Default age after which an entry that was not refreshed counts as gone, ms. */
export const DEFAULT_ANNOUNCE_TTL_MS = 10_000;
/** Default time between refreshes of a worker's entry, ms (well under the TTL). */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 2_000;

export const workerAnnouncementSchema = z.object({
  id: z.string().min(1),
  /** host:port the coordinator dials. */
  address: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port'),
  device: z.string(),
  /** Names of the models it serves (available ones). */
  models: z.array(z.string()),
  maxBatch: z.number().int().min(1),
  /** Evaluations per second of compute, measured by the worker (0 before its first call). */
  evaluationsPerSecond: z.number().min(0),
  version: z.string(),
  /** Worker clock when written, ms since the epoch (informational). */
  announcedAtMs: z.number(),
});

export type WorkerAnnouncement = z.infer<typeof workerAnnouncementSchema>;

/** KV key of a worker: its id with every character a KV key may not hold replaced by "_". */
export function announcementKey(workerId: string): string {
  return workerId.replace(/[^-/_=.a-zA-Z0-9]/g, '_').replace(/^[./]+|[./]+$/g, '_');
}
