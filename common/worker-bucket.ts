/**
 * The NATS KV bucket of worker announcements as both sides open it: the
 * worker (writer, worker/nats-announcer.ts) and the coordinator (watcher,
 * coordinator/cluster/nats-registry.ts). Either side may create the bucket,
 * so both create it alike (the announcement TTL, history 1), and both report
 * a failure with the servers and bucket it concerns.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { errorMessage } from './errors.ts';
import { DEFAULT_ANNOUNCE_TTL_MS, DEFAULT_WORKER_BUCKET } from './worker-announcement.ts';

/** The NATS server could not be reached or the bucket not used; each side subclasses it with its own name. */
export class WorkerBucketError extends Error {
  override readonly name: string = 'WorkerBucketError';
  constructor(
    message: string,
    readonly servers: string,
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the bucket is and how long an unrefreshed announcement lives. */
export interface WorkerBucketOptions {
  /** NATS server URL(s), comma-separated, e.g. "nats://127.0.0.1:4222". */
  servers: string;
  bucket?: string;
  /** TTL of the bucket (set when this side creates it), ms. */
  ttlMs?: number;
}

/** Who opens the bucket: its NATS client name, what it does with the bucket (for messages), its error class. */
export interface WorkerBucketRole {
  client: string;
  /** Completes "cannot <purpose> NATS bucket ...", e.g. `watch` or `announce in`. */
  purpose: string;
  error: new (message: string, servers: string, bucket: string, options?: { cause?: unknown }) => WorkerBucketError;
}

/**
 * Connects to NATS (reconnecting without limit), opens or creates the bucket
 * and hands both to `use`. On failure the connection is closed and a
 * `role.error` naming the servers and bucket is thrown.
 */
export async function openWorkerBucket<T>(
  opts: WorkerBucketOptions,
  role: WorkerBucketRole,
  use: (nc: NatsConnection, kv: KV, bucket: string) => Promise<T>,
): Promise<T> {
  const bucket = opts.bucket ?? DEFAULT_WORKER_BUCKET;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: opts.servers.split(','), name: role.client, maxReconnectAttempts: -1 });
  } catch (err) {
    throw new role.error(`cannot connect to NATS at ${opts.servers}: ${errorMessage(err)}`, opts.servers, bucket, { cause: err });
  }
  try {
    const kv = await new Kvm(nc).create(bucket, { ttl: opts.ttlMs ?? DEFAULT_ANNOUNCE_TTL_MS, history: 1 });
    return await use(nc, kv, bucket);
  } catch (err) {
    await nc.close().catch(() => {});
    throw new role.error(`cannot ${role.purpose} NATS bucket "${bucket}": ${errorMessage(err)}`, opts.servers, bucket, { cause: err });
  }
}
