import { modelManifestSchema, type ModelManifest } from '../../common/manifest.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { classifyFailure } from './failures.ts';
import { WorkerClient, type WorkerCalls } from './worker-client.ts';

/**
 * How the coordinator sees a worker:
 * - `unknown`: added, not yet probed;
 * - `serving`: takes micro-batches;
 * - `suspect`: a call timed out; nothing is sent until a heartbeat answers;
 * - `draining`: the worker said it is shutting down (finishing in-flight work);
 * - `dead`: unreachable, stuck, or failing every call.
 */
/** Every state a worker can be in, as the registry sees it. */
export const WORKER_HEALTH_STATES = ['unknown', 'serving', 'suspect', 'draining', 'dead'] as const;
export type WorkerHealth = (typeof WORKER_HEALTH_STATES)[number];

/** Where the coordinator learnt of a worker. */
export type WorkerSource = 'static' | 'nats';

/** The coordinator's view of one worker. */
export interface WorkerEntry {
  readonly address: string;
  readonly client: WorkerCalls;
  readonly sources: Set<WorkerSource>;
  id: string;
  device: string;
  state: WorkerHealth;
  maxBatch: number;
  /** Evaluate calls the worker runs at once (its Info's capacity, at least 1): its slots in the capacity model. */
  capacity: number;
  maxMessageBytes: number;
  /** Models the worker serves (available ones), by name. */
  models: Map<string, ModelManifest>;
  /** Models it reports unavailable, with reasons. */
  unavailable: Map<string, string>;
  inFlight: number;
  /** Evaluate calls sent whose request the worker has not yet confirmed receiving. */
  inTransit: number;
  /** The worker confirms receipt of Evaluate requests (early response headers; it says so in Info): its batches go on the wire one at a time. */
  confirmsReceipt: boolean;
  evaluations: number;
  /** Failed calls since the last successful Evaluate (heartbeats do not reset it). */
  consecutiveFailures: number;
  lastError: string;
  /** Evaluations per second while the worker had work in flight. */
  throughput: number;
  /**
   * Seconds per evaluated item of this worker's recent calls, transfer
   * included (an EMA of call seconds over items); undefined before its
   * first call. What the dispatcher compares workers by: a worker behind a
   * slow link measures slow whatever its device.
   */
  secondsPerItem: number | undefined;
  /** Seconds with at least one call in flight, up to `busySince`. */
  busySeconds: number;
  /** performance.now() when inFlight went 0 -> 1; undefined while idle. */
  busySince: number | undefined;
  /** A heartbeat is outstanding (so a stuck worker is not probed twice at once). */
  probing: boolean;
}

export interface RegistryOptions {
  maxMessageBytes: number;
  infoTimeoutMs: number;
  /** How often every worker is probed with Info (the heartbeat). */
  probeIntervalMs: number;
  /** Consecutive failed calls before a worker is marked dead. */
  maxConsecutiveFailures: number;
  log: Logger;
  /** Opens the connection to a worker (default: a gRPC {@link WorkerClient}); unit tests pass fakes. */
  connect?: (address: string, maxMessageBytes: number) => WorkerCalls;
}

/** Weight of the newest batch in the per-device latency average. */
const LATENCY_EMA_ALPHA = 0.2;
/** Weight of the newest call in a worker's seconds per item: a link that slows down shows within a few calls. */
const PER_ITEM_EMA_ALPHA = 0.3;

/**
 * Workers known to the coordinator, from a static address list and from
 * discovery (NATS). Every worker is probed with Info each probe interval;
 * a worker leaves `serving` on a timed-out call (suspect), a drain, an
 * unreachable address or repeated failures, and comes back when a
 * heartbeat answers again.
 */
export class WorkerRegistry {
  private readonly entries = new Map<string, WorkerEntry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  /** Typical seconds per Evaluate call, per device class (e.g. "cpu", "sim:a100"). */
  private readonly latency = new Map<string, number>();

  constructor(private readonly opts: RegistryOptions) {}

  /** Adds workers by address (known ones just gain the source) and probes the new ones once. */
  async add(addresses: readonly string[], source: WorkerSource = 'static'): Promise<void> {
    const added: WorkerEntry[] = [];
    for (const address of addresses) {
      const known = this.entries.get(address);
      if (known) {
        known.sources.add(source);
        continue;
      }
      const e: WorkerEntry = {
        address,
        client: this.opts.connect ? this.opts.connect(address, this.opts.maxMessageBytes) : new WorkerClient(address, this.opts.maxMessageBytes),
        sources: new Set([source]),
        id: address,
        device: '?',
        state: 'unknown',
        maxBatch: 1,
        capacity: 1,
        maxMessageBytes: this.opts.maxMessageBytes,
        models: new Map(),
        unavailable: new Map(),
        inFlight: 0,
        inTransit: 0,
        confirmsReceipt: false,
        evaluations: 0,
        consecutiveFailures: 0,
        lastError: '',
        throughput: 0,
        secondsPerItem: undefined,
        busySeconds: 0,
        busySince: undefined,
        probing: false,
      };
      this.entries.set(address, e);
      added.push(e);
      this.opts.log.info(`worker ${address} added`, { source });
    }
    await Promise.all(added.map((e) => this.probe(e)));
  }

  /**
   * Drops a worker learnt from `source` (a static worker stays when NATS
   * forgets it). Calls still in flight finish or fail on their own; the
   * connection closes once they are done.
   */
  remove(address: string, source: WorkerSource): void {
    const e = this.entries.get(address);
    if (!e || !e.sources.delete(source) || e.sources.size > 0) return;
    this.entries.delete(address);
    this.opts.log.info(`worker ${address} removed`, { source });
    const closeWhenIdle = () => (e.inFlight === 0 ? e.client.close() : setTimeout(closeWhenIdle, 200).unref());
    closeWhenIdle();
    this.notify();
  }

  /**
   * Starts the heartbeat: every probe interval each worker is asked for Info.
   * A serving worker that stops answering (or starts draining) leaves
   * `serving`; one that answers again comes back.
   */
  start(): void {
    this.timer ??= setInterval(() => {
      for (const e of this.entries.values()) if (!e.probing) void this.probe(e);
    }, this.opts.probeIntervalMs);
    this.timer.unref();
  }

  /**
   * Resolves true once some worker serves, re-probing the others every
   * `pollMs` meanwhile (sooner than the heartbeat, so a coordinator started
   * beside its workers picks them up as they bind). Resolves false after
   * `timeoutMs`, or at once when no worker looks like it is still starting
   * (each one refused a connection or was never asked): a worker that answers
   * with a TLS or protocol error is misconfigured, and waiting will not help.
   */
  async waitForServing(timeoutMs: number, pollMs = 250): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const entries = () => [...this.entries.values()];
    const starting = (e: WorkerEntry) => e.state === 'unknown' || (e.state !== 'serving' && /ECONNREFUSED/.test(e.lastError));
    while (!entries().some((e) => e.state === 'serving')) {
      const left = deadline - Date.now();
      if (left <= 0 || !entries().some(starting)) return false;
      await new Promise((r) => setTimeout(r, Math.min(pollMs, left)));
      await Promise.all(entries().filter((e) => !e.probing && e.state !== 'serving').map((e) => this.probe(e)));
    }
    return true;
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

  /** Typical seconds per Evaluate call on this worker's device class; undefined before the first one. */
  typicalCallSeconds(e: WorkerEntry): number | undefined {
    return this.latency.get(e.device);
  }

  /** Called when a worker's state changes or one is removed (dispatchers re-pump). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A call to `e` starts (keeps in-flight count and busy time). */
  began(e: WorkerEntry): void {
    if (e.inFlight++ === 0) e.busySince = performance.now();
  }

  /** A call to `e` ended, successfully or not. */
  ended(e: WorkerEntry): void {
    if (--e.inFlight === 0 && e.busySince !== undefined) {
      e.busySeconds += (performance.now() - e.busySince) / 1000;
      e.busySince = undefined;
    }
  }

  /** An Evaluate request to `e` went on the wire; the worker has not confirmed receiving it yet. */
  sending(e: WorkerEntry): void {
    e.inTransit++;
  }

  /** A request sent to `e` is off the wire: the worker confirmed receipt, or the call settled first. */
  delivered(e: WorkerEntry): void {
    e.inTransit--;
  }

  /** `e` confirmed receiving a request (early response headers): from now on its batches go on the wire one at a time. */
  receiptConfirmed(e: WorkerEntry): void {
    e.confirmsReceipt = true;
  }

  /** Records a successful Evaluate of `items` that took `seconds`. */
  succeeded(e: WorkerEntry, items: number, seconds: number): void {
    e.consecutiveFailures = 0;
    e.evaluations += items;
    const busy = e.busySeconds + (e.busySince === undefined ? 0 : (performance.now() - e.busySince) / 1000);
    e.throughput = e.evaluations / Math.max(busy, 1e-6);
    const perItem = seconds / Math.max(1, items);
    e.secondsPerItem = e.secondsPerItem === undefined ? perItem : (1 - PER_ITEM_EMA_ALPHA) * e.secondsPerItem + PER_ITEM_EMA_ALPHA * perItem;
    const prev = this.latency.get(e.device);
    this.latency.set(e.device, prev === undefined ? seconds : (1 - LATENCY_EMA_ALPHA) * prev + LATENCY_EMA_ALPHA * seconds);
  }

  /**
   * Records a failed call. A timeout makes the worker suspect (one timeout
   * is all a stuck worker may cost); a drain or an unreachable address takes
   * it out at once; other errors count, and enough in a row mark it dead.
   */
  failed(e: WorkerEntry, err: unknown): void {
    e.consecutiveFailures++;
    e.lastError = errorMessage(err);
    switch (classifyFailure(err)) {
      case 'timeout':
        if (e.state === 'serving') this.setState(e, 'suspect', e.lastError);
        return;
      case 'draining':
        this.setState(e, 'draining', e.lastError);
        return;
      case 'unreachable':
        this.setState(e, 'dead', e.lastError);
        return;
      case 'error':
        if (e.consecutiveFailures >= this.opts.maxConsecutiveFailures) {
          this.setState(e, 'dead', `${e.consecutiveFailures} failed calls in a row; last: ${e.lastError}`);
        }
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) e.client.close();
  }

  private async probe(e: WorkerEntry): Promise<void> {
    e.probing = true;
    try {
      const info = await e.client.info(this.opts.infoTimeoutMs);
      e.id = info.workerId || e.address;
      e.device = info.device;
      e.maxBatch = Math.max(1, info.maxBatch);
      e.capacity = Math.max(1, info.capacity || 1);
      e.confirmsReceipt = info.confirmsReceipt === true;
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
      // consecutiveFailures is kept: a worker that answers Info but fails
      // every Evaluate is back out after one more failure, not N.
      if (this.entries.get(e.address) === e) this.setState(e, 'serving');
    } catch (err) {
      e.lastError = errorMessage(err);
      const kind = classifyFailure(err);
      // A serving worker that misses a heartbeat becomes suspect; a suspect
      // one that cannot answer Info either is stuck, and dead.
      if (kind === 'timeout' && e.state === 'serving') this.failed(e, err);
      else this.setState(e, kind === 'draining' ? 'draining' : 'dead', e.lastError);
    } finally {
      e.probing = false;
    }
  }

  private setState(e: WorkerEntry, state: WorkerHealth, reason?: string): void {
    if (e.state === state) return;
    const log = state === 'serving' ? this.opts.log.info : this.opts.log.warn;
    log(`worker ${e.address} ${e.state} -> ${state}`, reason ? { reason } : undefined);
    e.state = state;
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
