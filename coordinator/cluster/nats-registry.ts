import type { NatsConnection } from '@nats-io/transport-node';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { DEFAULT_ANNOUNCE_TTL_MS, workerAnnouncementSchema } from '../../common/worker-announcement.ts';
import { openWorkerBucket, WorkerBucketError } from '../../common/worker-bucket.ts';
import { LostWorkers, type LostWorker } from './lost-workers.ts';
import type { WorkerRegistry } from './worker-registry.ts';

export interface NatsDiscoveryOptions {
  /** NATS server URL(s), comma-separated, e.g. "nats://127.0.0.1:4222". */
  servers: string;
  bucket?: string;
  /** An entry not refreshed for this long counts as gone, ms. */
  ttlMs?: number;
  /** How long a worker whose announcement lapsed counts as lost unless it comes back, ms (default one hour). */
  lostRetentionMs?: number;
  log: Logger;
}

/** The NATS server could not be reached or the bucket not opened. */
export class NatsDiscoveryError extends WorkerBucketError {
  override readonly name = 'NatsDiscoveryError';
}

interface Seen {
  address: string;
  /** Local time of the last PUT, ms. */
  atMs: number;
}

/**
 * Worker discovery through a NATS KV bucket: workers put an announcement
 * under their id and refresh it every few seconds; this watcher adds each
 * announced address to the registry and removes it when its key is deleted
 * (a drain) or stops being refreshed (the process died: the worker is then
 * also kept in {@link lost}). The bucket has a TTL, but nats-server 2.9 sends
 * no notice when an entry expires, so staleness is judged here from the time
 * of the last refresh seen.
 *
 * While the connection to NATS is down nothing can be refreshed, so nothing
 * lapses: the workers stay, those the heartbeat still reaches serving, and
 * {@link up} says discovery is blind. Back online, every announcement gets a
 * fresh TTL and the watch starts over.
 */
export class NatsDiscovery {
  private readonly seen = new Map<string, Seen>();
  private readonly lostWorkers: LostWorkers;
  private sweeper: NodeJS.Timeout | undefined;
  private watcher: Awaited<ReturnType<KV['watch']>> | undefined;
  private connected = true;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly registry: WorkerRegistry,
    private readonly ttlMs: number,
    private readonly log: Logger,
    lostRetentionMs: number | undefined,
  ) {
    this.lostWorkers = new LostWorkers(lostRetentionMs);
  }

  /** Connects, opens (or creates) the bucket and starts watching it. */
  static start(registry: WorkerRegistry, opts: NatsDiscoveryOptions): Promise<NatsDiscovery> {
    const ttlMs = opts.ttlMs ?? DEFAULT_ANNOUNCE_TTL_MS;
    return openWorkerBucket({ ...opts, ttlMs }, { client: 'propeller-coordinator', purpose: 'watch', error: NatsDiscoveryError }, async (nc, kv) => {
      const discovery = new NatsDiscovery(nc, kv, registry, ttlMs, opts.log, opts.lostRetentionMs);
      await discovery.watch();
      discovery.followConnection();
      return discovery;
    });
  }

  /** Addresses currently announced. */
  addresses(): string[] {
    return [...this.seen.values()].map((s) => s.address);
  }

  /** Whether announcements can be seen (connected to NATS); false during an outage. */
  up(): boolean {
    return this.connected && !this.closing;
  }

  /** Workers whose announcement lapsed within the retention and that have not announced again. */
  lost(): LostWorker[] {
    return this.lostWorkers.list();
  }

  /** Stops watching and closes the connection; announced workers stay in the registry until it closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweeper) clearInterval(this.sweeper);
      try {
        await this.nc.drain();
      } catch (err) {
        this.log.warn('closing the NATS connection failed', { error: errorMessage(err) });
      }
    })();
    return this.closing;
  }

  private async watch(): Promise<void> {
    const watcher = await this.kv.watch();
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const e of watcher) this.onEntry(e);
      } catch (err) {
        if (!this.closing) this.log.error('NATS watch ended', { error: errorMessage(err) });
      }
    })();
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(100, Math.floor(this.ttlMs / 4)));
    this.sweeper.unref();
  }

  /** Marks discovery down while disconnected; on reconnecting, gives every announcement a fresh TTL and watches again. */
  private followConnection(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (this.closing) break;
        if (s.type === 'disconnect' && this.connected) {
          this.connected = false;
          this.log.warn('NATS discovery is down: workers stay as they are until announcements can be seen again', { workers: this.seen.size });
        } else if (s.type === 'reconnect' && !this.connected) {
          const now = Date.now();
          for (const seen of this.seen.values()) seen.atMs = now;
          this.connected = true;
          this.log.info('NATS discovery is back', { workers: this.seen.size });
          this.watcher?.stop();
          await this.watch().catch((err) => this.log.error('cannot watch worker announcements again', { error: errorMessage(err) }));
        }
      }
    })();
  }

  private onEntry(e: KvWatchEntry): void {
    if (e.operation !== 'PUT') {
      this.forget(e.key, `key ${e.operation === 'DEL' ? 'deleted' : 'purged'}`);
      return;
    }
    let address: string;
    try {
      address = workerAnnouncementSchema.parse(e.json()).address;
    } catch (err) {
      this.log.warn('ignoring a malformed worker announcement', { key: e.key, error: errorMessage(err) });
      return;
    }
    const prev = this.seen.get(e.key);
    this.seen.set(e.key, { address, atMs: Date.now() });
    if (prev?.address === address) return;
    if (prev) this.registry.remove(prev.address, 'nats');
    this.log.info('worker announced', { key: e.key, address });
    this.lostWorkers.found(address);
    void this.registry.add([address], 'nats');
  }

  private sweep(): void {
    // Blind, not gone: during an outage no announcement can be refreshed.
    if (!this.connected) return;
    const now = Date.now();
    for (const [key, s] of this.seen) if (now - s.atMs > this.ttlMs) this.forget(key, `not refreshed for ${now - s.atMs} ms`, true);
  }

  /** Drops the worker under `key`; `lost`: it went without deleting its key (a drain does). */
  private forget(key: string, why: string, lost = false): void {
    const s = this.seen.get(key);
    if (!s) return;
    this.seen.delete(key);
    this.log[lost ? 'warn' : 'info']('worker gone from NATS', { key, address: s.address, why, ...(lost ? { lost: true } : {}) });
    const entry = this.registry.all().find((e) => e.address === s.address);
    // A worker also on the static list stays in the registry (dead if gone): it is not lost besides.
    if (lost && !entry?.sources.has('static')) this.lostWorkers.record(entry ?? { address: s.address, id: key, device: '?' }, why);
    this.registry.remove(s.address, 'nats');
  }
}
