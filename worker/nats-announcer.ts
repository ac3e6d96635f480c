import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { DEFAULT_ANNOUNCE_INTERVAL_MS, announcementKey, type WorkerAnnouncement } from '../common/worker-announcement.ts';
import { openWorkerBucket, WorkerBucketError } from '../common/worker-bucket.ts';

export interface AnnouncerOptions {
  /** NATS server URL(s), comma-separated. */
  servers: string;
  bucket?: string;
  /** TTL of the bucket (set when this worker creates it), ms. */
  ttlMs?: number;
  /** Time between refreshes, ms. */
  intervalMs?: number;
  /** The current announcement (read at every refresh, so throughput stays current). */
  announcement: () => WorkerAnnouncement;
  log: Logger;
}

/** The NATS server could not be reached or the announcement not written. */
export class AnnounceError extends WorkerBucketError {
  override readonly name = 'AnnounceError';
}

/**
 * Announces a worker in a NATS KV bucket: puts its entry at start, refreshes
 * it every interval (the bucket's TTL drops it if the process dies), and
 * deletes it on `stop()` — the first step of a drain, so coordinators stop
 * sending before the worker stops answering.
 */
export class NatsAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** The refresh being written, awaited before the delete so it cannot land after it. */
  private writing: Promise<unknown> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    readonly key: string,
    private readonly opts: AnnouncerOptions,
  ) {}

  /** Connects, opens (or creates) the bucket, writes the first announcement and starts refreshing. */
  static start(opts: AnnouncerOptions): Promise<NatsAnnouncer> {
    return openWorkerBucket(opts, { client: 'propeller-worker', purpose: 'announce in', error: AnnounceError }, async (nc, kv, bucket) => {
      const announcer = new NatsAnnouncer(nc, kv, announcementKey(opts.announcement().id), opts);
      await announcer.put();
      announcer.timer = setInterval(() => {
        announcer.put().catch((err: unknown) => opts.log.warn('refreshing the NATS announcement failed', { error: errorMessage(err) }));
      }, opts.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS);
      announcer.timer.unref();
      opts.log.info('announced in NATS', { servers: opts.servers, bucket, key: announcer.key });
      return announcer;
    });
  }

  /** Deletes the announcement and closes the connection. Idempotent; never throws. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.writing?.catch(() => {});
      try {
        await this.kv.delete(this.key);
      } catch (err) {
        this.opts.log.warn('deleting the NATS announcement failed', { error: errorMessage(err) });
      }
      try {
        await this.nc.drain();
      } catch (err) {
        this.opts.log.warn('closing the NATS connection failed', { error: errorMessage(err) });
      }
    })();
    return this.stopping;
  }

  private async put(): Promise<void> {
    if (this.stopping) return;
    this.writing = this.kv.put(this.key, JSON.stringify(this.opts.announcement()));
    await this.writing;
  }
}
