import { z } from 'zod';
import { DEFAULT_ANNOUNCE_TTL_MS, DEFAULT_WORKER_BUCKET } from './worker-announcement.ts';

/**
 * The options both sides of the worker-announcement bucket take (the
 * coordinator's `nats`, the worker's `nats`), validated alike: either side may
 * create the bucket (common/worker-bucket.ts), so both must agree on what a
 * valid name and TTL are.
 */
export const workerBucketOptions = {
  /** NATS servers, comma-separated URLs. */
  servers: z.string().min(1),
  bucket: z.string().regex(/^[-\w]+$/, 'must be letters, digits, "-" or "_"').default(DEFAULT_WORKER_BUCKET),
  /** An announcement not refreshed for this long counts as gone. */
  ttlMs: z.number().int().min(500).default(DEFAULT_ANNOUNCE_TTL_MS),
};
