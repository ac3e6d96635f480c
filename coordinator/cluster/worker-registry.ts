import * as grpc from '@grpc/grpc-js';
import { grpcCode } from '../../common/grpc-status.ts';
import { modelManifestSchema, type ModelManifest } from '../../common/manifest.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { WorkerClient } from './worker-client.ts';

export type WorkerHealth = 'unknown' | 'serving' | 'dead';

/** The coordinator's view of one worker. */
export interface WorkerEntry {
  readonly address: string;
  readonly client: WorkerClient;
  id: string;
  device: string;
  state: WorkerHealth;
  maxBatch: number;
  maxMessageBytes: number;
  /** Models the worker serves (available ones), by name. */
  models: Map<string, ModelManifest>;
  /** Models it reports unavailable, with reasons. */
  unavailable: Map<string, string>;
  inFlight: number;
  evaluations: number;
  consecutiveFailures: number;
  lastError: string;
  /** Evaluations per second, exponential moving average over finished batches. */
  throughput: number;
}

export interface RegistryOptions {
  maxMessageBytes: number;
  infoTimeoutMs: number;
  /** How often dead or unknown workers are probed again. */
  probeIntervalMs: number;
  /** Consecutive failed calls before a worker is marked dead. */
  maxConsecutiveFailures: number;
  log: Logger;
}

/**
 * Workers known to the coordinator, from a static address list. A worker is
 * probed with Info at start and, while dead, every probe interval; it comes
 * back when it answers again.
 */
export class WorkerRegistry {
  private readonly entries = new Map<string, WorkerEntry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly opts: RegistryOptions) {}

  /** Adds workers by address and probes them once. */
  async add(addresses: readonly string[]): Promise<void> {
    for (const address of addresses) {
      if (this.entries.has(address)) continue;
      this.entries.set(address, {
        address,
        client: new WorkerClient(address, this.opts.maxMessageBytes),
        id: address,
        device: '?',
        state: 'unknown',
        maxBatch: 1,
        maxMessageBytes: this.opts.maxMessageBytes,
        models: new Map(),
        unavailable: new Map(),
        inFlight: 0,
        evaluations: 0,
        consecutiveFailures: 0,
        lastError: '',
        throughput: 0,
      });
    }
    await Promise.all(addresses.map((a) => this.probe(this.entries.get(a)!)));
  }

  /**
   * Starts the heartbeat: every probe interval each worker is asked for Info.
   * A serving worker that stops answering (or starts draining) is marked
   * dead; a dead one that answers again comes back.
   */
  start(): void {
    this.timer ??= setInterval(() => {
      for (const e of this.entries.values()) void this.probe(e);
    }, this.opts.probeIntervalMs);
    this.timer.unref();
  }

  all(): WorkerEntry[] {
    return [...this.entries.values()];
  }

  serving(model?: string): WorkerEntry[] {
    return this.all().filter((e) => e.state === 'serving' && (!model || e.models.has(model)));
  }

  /** A model's manifest from any worker that serves it. */
  manifest(model: string): ModelManifest | undefined {
    for (const e of this.entries.values()) {
      const m = e.models.get(model);
      if (m) return m;
    }
    return undefined;
  }

  /** Names of every model any worker reported, available or not. */
  modelNames(): string[] {
    const names = new Set<string>();
    for (const e of this.entries.values()) {
      for (const n of e.models.keys()) names.add(n);
      for (const n of e.unavailable.keys()) names.add(n);
    }
    return [...names].sort();
  }

  /** Called when a worker's state changes (dispatchers re-pump). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records a successful call. */
  succeeded(e: WorkerEntry, items: number, seconds: number): void {
    e.consecutiveFailures = 0;
    e.evaluations += items;
    const rate = items / Math.max(seconds, 1e-6);
    e.throughput = e.throughput === 0 ? rate : 0.8 * e.throughput + 0.2 * rate;
  }

  /** Records a failed call; enough in a row and the worker is marked dead. */
  failed(e: WorkerEntry, err: unknown, fatal = false): void {
    e.consecutiveFailures++;
    e.lastError = errorMessage(err);
    if (fatal || e.consecutiveFailures >= this.opts.maxConsecutiveFailures) this.setState(e, 'dead', e.lastError);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) e.client.close();
  }

  private async probe(e: WorkerEntry): Promise<void> {
    try {
      const info = await e.client.info(this.opts.infoTimeoutMs);
      e.id = info.workerId || e.address;
      e.device = info.device;
      e.maxBatch = Math.max(1, info.maxBatch);
      e.maxMessageBytes = Math.min(this.opts.maxMessageBytes, Number(info.maxMessageBytes) || this.opts.maxMessageBytes);
      e.models.clear();
      e.unavailable.clear();
      for (const m of info.models) {
        if (!m.available) {
          e.unavailable.set(m.name, m.reason);
          continue;
        }
        const parsed = modelManifestSchema.safeParse(JSON.parse(m.manifestJson));
        if (parsed.success) e.models.set(m.name, parsed.data);
        else e.unavailable.set(m.name, `manifest rejected by coordinator: ${parsed.error.issues[0]?.message}`);
      }
      e.consecutiveFailures = 0;
      this.setState(e, 'serving');
    } catch (err) {
      // A slow answer from a serving worker is one missed heartbeat; a refused
      // connection or a draining worker is gone now.
      if (e.state === 'serving' && grpcCode(err) === grpc.status.DEADLINE_EXCEEDED) {
        this.failed(e, err);
        return;
      }
      e.lastError = errorMessage(err);
      this.setState(e, 'dead', e.lastError);
    }
  }

  private setState(e: WorkerEntry, state: WorkerHealth, reason?: string): void {
    if (e.state === state) return;
    const log = state === 'dead' ? this.opts.log.warn : this.opts.log.info;
    log(`worker ${e.address} ${e.state} -> ${state}`, reason ? { reason } : undefined);
    e.state = state;
    for (const l of this.listeners) l();
  }
}
