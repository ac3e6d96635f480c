import { randomBytes } from 'node:crypto';
import { EventEmitter, setMaxListeners } from 'node:events';
import { CanceledError, FailedPreconditionError, NotFoundError, ResourceExhaustedError, UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { TERMINAL_STATES, canTransition, emptyProgress, type JobProgress, type JobRecord, type JobState } from './job.ts';
import type { JobQueue, JobStore } from './ports.ts';
import type { ValidSpec } from './spec.ts';

/** What a running job reports back to the manager. */
export interface JobReporter {
  progress(patch: Partial<JobProgress>): void;
  setState(state: 'ENCODING'): void;
  metrics(values: Record<string, number>): void;
}

/** Runs one job to its output; resolves with the output's size. */
export type RenderFn = (job: JobRecord, report: JobReporter, signal: AbortSignal) => Promise<{ outputBytes: number }>;

export interface JobEventPayload {
  job: JobRecord;
  message: string;
}

export interface JobManagerOptions {
  store: JobStore;
  queue: JobQueue;
  render: RenderFn;
  maxConcurrentJobs: number;
  maxQueued: number;
  /** Minimum time between progress events of one job (state changes are always sent). */
  progressIntervalMs: number;
  log: Logger;
}

/**
 * Owns the job lifecycle: submit (idempotent by client request id), the
 * run loop that takes jobs from the queue, progress and state events for
 * Watch, and cancel (a running job stops dispatching within one round).
 */
export class JobManager {
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, AbortController>();
  private readonly loopAbort = new AbortController();
  private loops: Promise<void>[] = [];
  private draining = false;

  constructor(private readonly opts: JobManagerOptions) {
    this.events.setMaxListeners(0);
  }

  /** Starts the run loops (one per concurrent job slot). */
  start(): void {
    for (let i = 0; i < this.opts.maxConcurrentJobs; i++) this.loops.push(this.loop());
  }

  async submit(spec: ValidSpec, clientRequestId: string): Promise<JobRecord> {
    if (this.draining) throw new UnavailableError('coordinator is shutting down');
    if (clientRequestId) {
      const existing = await this.opts.store.findByClientRequestId(clientRequestId);
      if (existing) return existing;
    }
    if ((await this.opts.queue.size()) >= this.opts.maxQueued) {
      throw new ResourceExhaustedError(`queue is full (${this.opts.maxQueued} jobs waiting); retry later`);
    }
    const job: JobRecord = {
      id: newJobId(),
      spec,
      state: 'QUEUED',
      progress: emptyProgress(spec),
      error: '',
      createdAtMs: Date.now(),
      startedAtMs: 0,
      finishedAtMs: 0,
      outputBytes: 0,
      outputFormat: spec.output.format,
      clientRequestId,
      metrics: {},
    };
    await this.opts.store.create(job);
    await this.opts.queue.push(job.id, spec.priority);
    this.opts.log.info('job queued', { job: job.id, frames: spec.frames, size: `${spec.width}x${spec.height}`, steps: spec.steps });
    this.emit(job, 'queued');
    return job;
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.opts.store.get(id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  }

  list(filter: { states?: JobState[]; limit?: number }): Promise<JobRecord[]> {
    return this.opts.store.list(filter);
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    if (TERMINAL_STATES.has(job.state)) return job;
    if (await this.opts.queue.remove(id)) {
      return this.transition(job, 'CANCELED', 'canceled while queued');
    }
    const ctl = this.running.get(id);
    if (ctl) {
      ctl.abort(new CanceledError('canceled by request'));
      // The run loop records CANCELED once the render stops; wait for it.
      return new Promise((resolve) => {
        const done = (e: JobEventPayload) => {
          if (TERMINAL_STATES.has(e.job.state)) {
            this.events.off(id, done);
            resolve(e.job);
          }
        };
        this.events.on(id, done);
      });
    }
    return this.transition(job, 'CANCELED', 'canceled');
  }

  /**
   * Calls `listener` with the current job, then with every event until the
   * job ends. Returns an unsubscribe function.
   */
  async watch(id: string, listener: (e: JobEventPayload) => void): Promise<() => void> {
    const job = await this.get(id);
    this.events.on(id, listener);
    listener({ job, message: `state ${job.state}` });
    return () => this.events.off(id, listener);
  }

  /** Number of jobs running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Stops taking jobs, cancels running ones and waits for the loops. Idempotent. */
  async close(): Promise<void> {
    this.draining = true;
    this.loopAbort.abort(new UnavailableError('shutting down'));
    for (const ctl of this.running.values()) ctl.abort(new UnavailableError('coordinator is shutting down'));
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.loopAbort.signal.aborted) {
      let id: string;
      try {
        id = await this.opts.queue.take(this.loopAbort.signal);
      } catch {
        return;
      }
      try {
        await this.runOne(id);
      } catch (err) {
        this.opts.log.error('run loop error', { job: id, error: errorMessage(err) });
      }
    }
  }

  private async runOne(id: string): Promise<void> {
    let job = await this.opts.store.get(id);
    if (!job || job.state !== 'QUEUED') return;
    const ctl = new AbortController();
    // Every in-flight worker call listens for the job's cancel: many at once is expected.
    setMaxListeners(0, ctl.signal);
    this.running.set(id, ctl);
    job.startedAtMs = Date.now();
    job = await this.transition(job, 'RUNNING', 'started');
    let lastEmit = 0;
    const current = job;
    const reporter: JobReporter = {
      progress: (patch) => {
        Object.assign(current.progress, patch);
        const now = Date.now();
        if (now - lastEmit >= this.opts.progressIntervalMs) {
          lastEmit = now;
          void this.opts.store.put(current);
          this.emit(current, 'progress');
        }
      },
      setState: (state) => {
        void this.transition(current, state, 'decoding and encoding');
      },
      metrics: (values) => Object.assign(current.metrics, values),
    };
    try {
      const { outputBytes } = await this.opts.render(current, reporter, ctl.signal);
      current.outputBytes = outputBytes;
      current.finishedAtMs = Date.now();
      await this.transition(current, 'SUCCEEDED', `done in ${((current.finishedAtMs - current.startedAtMs) / 1000).toFixed(1)} s`);
    } catch (err) {
      current.finishedAtMs = Date.now();
      if (ctl.signal.aborted && ctl.signal.reason instanceof CanceledError) {
        await this.transition(current, 'CANCELED', 'canceled');
      } else {
        current.error = errorMessage(err);
        this.opts.log.warn('job failed', { job: id, error: current.error });
        await this.transition(current, 'FAILED', current.error);
      }
    } finally {
      this.running.delete(id);
    }
  }

  private async transition(job: JobRecord, state: JobState, message: string): Promise<JobRecord> {
    if (job.state === state) return job;
    if (!canTransition(job.state, state)) throw new FailedPreconditionError(`job ${job.id} cannot go from ${job.state} to ${state}`);
    job.state = state;
    if (TERMINAL_STATES.has(state) && !job.finishedAtMs) job.finishedAtMs = Date.now();
    await this.opts.store.put(job);
    this.opts.log.info(`job ${state.toLowerCase()}`, { job: job.id, message });
    this.emit(job, message);
    return job;
  }

  private emit(job: JobRecord, message: string): void {
    this.events.emit(job.id, { job: structuredClone(job), message } satisfies JobEventPayload);
  }
}

/** Sortable, unguessable job id: time prefix + random suffix. */
function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}
