import { CanceledError, NotFoundError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { TERMINAL_STATES, type JobRecord } from './job.ts';
import type { JobEvents } from './job-events.ts';
import type { CancelRequests, JobQueue, JobStore } from './ports.ts';

/** What cancelling needs of the job manager. */
export interface JobCancelContext {
  store: JobStore;
  queue: JobQueue;
  events: JobEvents;
  log: Logger;
  /** Shared stores: cancel requests that reach whichever coordinator runs a job. */
  cancels?: CancelRequests;
  /** How long a cancel of a job running elsewhere waits for it to stop. Default 30 s. */
  remoteCancelWaitMs?: number;
  /** The abort controller of the job's run when it runs on this coordinator. */
  runningHere(id: string): AbortController | undefined;
}

/**
 * Cancel: a queued job is canceled at once, a running one is aborted (here,
 * or through a cancel request on the coordinator that runs it) and its run
 * records the end. Every CANCELED record is written by {@link write}.
 */
export class JobCancel {
  constructor(private readonly ctx: JobCancelContext) {}

  /** Cancels job `id` (idempotent: an ended job is answered as it is). */
  async cancel(id: string): Promise<JobRecord> {
    const { store, queue, events, cancels } = this.ctx;
    const job = await store.get(id);
    if (!job) throw new NotFoundError('job', id);
    if (TERMINAL_STATES.has(job.state)) return job;
    if (await queue.remove(id)) return this.stored(await this.write(id, 'canceled while queued'), id);
    const ctl = this.ctx.runningHere(id);
    if (ctl) {
      // The run records CANCELED once the render stops; wait for it.
      const ended = events.ended(id);
      ctl.abort(new CanceledError('canceled by request'));
      return ended;
    }
    if (cancels) return this.cancelShared(id, cancels);
    return this.stored(await this.write(id, 'canceled'), id);
  }

  /**
   * The one way CANCELED is written: atomically against every other writer,
   * and only over a job that has not ended. `base` is the record to write
   * (a run's own, with its latest progress); the stored one when absent.
   * Logs and emits the change; `changed` is false when the job had ended.
   */
  async write(id: string, message: string, base?: JobRecord, onlyQueued = false): Promise<{ job: JobRecord | undefined; changed: boolean }> {
    let changed = false;
    const job = await this.ctx.store.update(
      id,
      (stored) => {
        if (TERMINAL_STATES.has(stored.state) || (onlyQueued && stored.state !== 'QUEUED')) return undefined;
        changed = true;
        const from = base ?? stored;
        return { ...from, state: 'CANCELED', finishedAtMs: from.finishedAtMs || Date.now() };
      },
      message,
    );
    if (job && changed) {
      this.ctx.log.info('job canceled', { job: id, message });
      this.ctx.events.emit(job, message);
    }
    return { job, changed };
  }

  private stored(written: { job: JobRecord | undefined }, id: string): JobRecord {
    if (!written.job) throw new NotFoundError('job', id);
    return written.job;
  }

  /**
   * Cancel with a shared store: the request reaches the coordinator running
   * the job (or the one that takes it next); a job still queued is canceled
   * here, atomically against a coordinator taking it.
   */
  private async cancelShared(id: string, cancels: CancelRequests): Promise<JobRecord> {
    await cancels.request(id);
    const { job: after, changed } = await this.write(id, 'canceled while queued', undefined, true);
    if (!after) throw new NotFoundError('job', id);
    if (changed || TERMINAL_STATES.has(after.state) || !this.ctx.store.watch) return after;
    // Running on another coordinator: wait (bounded) for it to record the end.
    let latest = after;
    let finish!: (job: JobRecord) => void;
    const ended = new Promise<JobRecord>((resolve) => (finish = resolve));
    const unsubscribe = await this.ctx.store.watch(id, (j) => {
      latest = j;
      if (TERMINAL_STATES.has(j.state)) finish(j);
    });
    const timer = setTimeout(() => finish(latest), this.ctx.remoteCancelWaitMs ?? 30_000);
    try {
      return await ended;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }
}
