import { nanos, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { ResourceExhaustedError } from '../../common/errors.ts';
import type { JobLease, JobQueue } from '../jobs/ports.ts';
import { PRIORITY_BANDS, priorityBand, type JetStreamConfig, type JetStreamNames, type PriorityBand } from './options.ts';

/** A submission on the stream: the job id (also its message id) and its priority. */
interface Submission {
  id: string;
  priority: number;
}

/** How long one pull waits for a message (the client's minimum). */
const PULL_EXPIRES_MS = 1_000;

/**
 * The job queue on a JetStream work-queue stream: one subject per priority
 * band, one durable pull consumer per band shared by every coordinator, so
 * each submission goes to exactly one coordinator at a time. The message id
 * is the job id, so a repeated push within the dedup window is dropped. A
 * taken job stays the coordinator's while it acks `working()` within the ack
 * wait; otherwise (the coordinator died) the stream hands it to another one.
 */
export class JetStreamJobQueue implements JobQueue {
  private readonly wakers = new Set<() => void>();
  private rotation = 0;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly names: JetStreamNames,
    private readonly consumers: Record<PriorityBand, Consumer>,
    private readonly sub: Subscription,
  ) {
    // New submissions wake takers at once instead of at their next poll.
    void (async () => {
      for await (const _ of sub) for (const wake of [...this.wakers]) wake();
    })();
  }

  /** Binds to the stream's consumers, creating or updating them (ack wait) as needed. */
  static async open(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, names: JetStreamNames, config: JetStreamConfig): Promise<JetStreamJobQueue> {
    const consumers = {} as Record<PriorityBand, Consumer>;
    for (const band of PRIORITY_BANDS) {
      const name = names.consumer(band);
      const ackWait = nanos(config.ackWaitMs);
      const existing = await jsm.consumers.info(names.stream, name).catch(() => undefined);
      if (!existing) {
        await jsm.consumers.add(names.stream, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: names.subject(band),
          ack_wait: ackWait,
          // Redelivered until some coordinator finishes it.
          max_deliver: -1,
        });
      } else if (existing.config.ack_wait !== ackWait) {
        await jsm.consumers.update(names.stream, name, { ack_wait: ackWait });
      }
      consumers[band] = await js.consumers.get(names.stream, name);
    }
    return new JetStreamJobQueue(js, names, consumers, nc.subscribe(names.subjects));
  }

  async push(id: string, priority: number): Promise<void> {
    try {
      await this.js.publish(this.names.subject(priorityBand(priority)), JSON.stringify({ id, priority } satisfies Submission), { msgID: id });
    } catch (err) {
      if (/maximum messages exceeded/i.test(String(err))) throw new ResourceExhaustedError('the submissions stream is full; retry later');
      throw err;
    }
  }

  /** A push again: the message id (the job id) makes it a no-op within the stream's duplicate window. */
  requeueStored(id: string, priority: number): Promise<void> {
    return this.push(id, priority);
  }

  async take(signal: AbortSignal): Promise<JobLease> {
    for (;;) {
      signal.throwIfAborted();
      const infos = await Promise.all(PRIORITY_BANDS.map((b) => this.consumers[b].info()));
      // Undelivered submissions, highest band first; else a band with jobs out on
      // lease, whose lapsed ones (a dead coordinator's) come back only to a pull.
      let band: PriorityBand | undefined = PRIORITY_BANDS.find((_, i) => infos[i]!.num_pending > 0);
      if (!band) {
        const leased = PRIORITY_BANDS.filter((_, i) => infos[i]!.num_ack_pending > 0);
        band = leased.length ? leased[this.rotation++ % leased.length] : undefined;
      }
      if (!band) {
        await this.nextSubmission(signal, PULL_EXPIRES_MS);
        continue;
      }
      const msg = await this.consumers[band].next({ expires: PULL_EXPIRES_MS });
      if (!msg) continue;
      if (signal.aborted) {
        msg.nak();
        signal.throwIfAborted();
      }
      return lease(msg);
    }
  }

  /** Cancel of a queued job is decided in the job store; the message is dropped when taken. */
  async remove(): Promise<boolean> {
    return false;
  }

  /** Submissions not yet taken by any coordinator. */
  /** Each band's consumer counts (metrics: queued, held, redelivered submissions). */
  async consumerStats(): Promise<{ band: PriorityBand; pending: number; ackPending: number; redelivered: number }[]> {
    const infos = await Promise.all(PRIORITY_BANDS.map((b) => this.consumers[b].info()));
    return PRIORITY_BANDS.map((band, i) => ({ band, pending: infos[i]!.num_pending, ackPending: infos[i]!.num_ack_pending, redelivered: infos[i]!.num_redelivered }));
  }

  async size(): Promise<number> {
    const infos = await Promise.all(PRIORITY_BANDS.map((b) => this.consumers[b].info()));
    return infos.reduce((n, i) => n + i.num_pending, 0);
  }

  /** Stops the wake-up subscription. Idempotent. */
  close(): void {
    this.sub.unsubscribe();
    for (const wake of [...this.wakers]) wake();
  }

  private nextSubmission(signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.wakers.add(done);
    });
  }
}

function lease(msg: JsMsg): JobLease {
  const { id } = msg.json<Submission>();
  return {
    id,
    redeliveries: msg.info.deliveryCount - 1,
    working: () => msg.working(),
    ack: async () => {
      await msg.ackAck();
    },
    release: async () => {
      msg.nak();
      return true;
    },
  };
}
