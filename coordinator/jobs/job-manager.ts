import { randomBytes } from 'node:crypto';
import { EventEmitter, setMaxListeners } from 'node:events';
import { CanceledError, FailedPreconditionError, NotFoundError, ResourceExhaustedError, UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { TERMINAL_STATES, canTransition, emptyProgress, type JobRecord, type JobState } from './job.ts';
import type { CancelRequests, CheckpointStore, JobLease, JobListFilter, JobQueue, JobStore } from './ports.ts';
import type { ValidSpec } from './spec.ts';
import { runClaimedJob, type RenderFn, type RunOutcome } from './job-run.ts';

export { RESUMED_FROM_STEP, type JobReporter, type RenderFn } from './job-run.ts';

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
  /** Queued jobs one tenant may have (0 or unset: no limit of its own); tenant '' (auth off) is exempt. */
  maxQueuedPerTenant?: number;
  /** Unfinished jobs one tenant may have (0 or unset: no limit of its own); tenant '' is exempt. */
  maxActivePerTenant?: number;
  /** Minimum time between progress events of one job (state changes are always sent). */
  progressIntervalMs: number;
  log: Logger;
  /** Shared stores: cancel requests that reach whichever coordinator runs a job. */
  cancels?: CancelRequests;
  /** Shared stores: the render's checkpoints, deleted here once a job has ended. */
  checkpoints?: CheckpointStore;
  /** How often a running job's lease is kept alive (`JobLease.working`). Default 10 s. */
  leaseRefreshMs?: number;
  /** How long a cancel of a job running elsewhere waits for it to stop. Default 30 s. */
  remoteCancelWaitMs?: number;
}

/**
 * Owns the job lifecycle: submit (idempotent by client request id), the
 * run loop that takes jobs from the queue, progress and state events for
 * Watch, and cancel (a running job stops dispatching within one round).
 */
export class JobManager {
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, AbortController>();
  /**
   * The lease each running job is kept and ended with. A shared queue hands
   * a job out again when its lease lapsed (a broker outage stopped the
   * renewals); if it still runs here, the run adopts the new lease instead
   * of a second run starting beside it.
   */
  private readonly leases = new Map<string, { current: JobLease }>();
  private readonly loopAbort = new AbortController();
  private loops: Promise<void>[] = [];
  private draining = false;
  private readonly unsubscribeCancels: () => void;
  /**
   * Per tenant, submits that passed the quota check and whose record is not
   * created yet (counted as queued jobs, so a burst of concurrent submits
   * cannot all pass on the same count), and the checks waiting for one of
   * them to be created.
   */
  private readonly admitting = new Map<string, { count: number; waiting: (() => void)[] }>();

  constructor(private readonly opts: JobManagerOptions) {
    this.events.setMaxListeners(0);
    // A cancel asked of another coordinator stops the job here when it runs here.
    this.unsubscribeCancels = opts.cancels?.subscribe((id) => this.running.get(id)?.abort(new CanceledError('canceled by request'))) ?? (() => undefined);
  }

  /** Starts the run loops (one per concurrent job slot). */
  start(): void {
    for (let i = 0; i < this.opts.maxConcurrentJobs; i++) this.loops.push(this.loop());
  }

  /** Queues a job of `tenant` ('' when authentication is off); RESOURCE_EXHAUSTED past the queue limits. */
  async submit(spec: ValidSpec, clientRequestId: string, tenant = ''): Promise<JobRecord> {
    const admitted = await this.admission(clientRequestId, tenant, true);
    if (admitted.existing) return this.queuedAgain(admitted.existing);
    try {
      return await this.create(spec, clientRequestId, tenant, admitted.release);
    } finally {
      admitted.release();
    }
  }

  /**
   * A job an earlier Submit with the same client request id stored: if it is
   * still QUEUED, that Submit may have died before queuing it (a broker
   * outage), so it is queued again where the queue can dedupe that.
   */
  private async queuedAgain(job: JobRecord): Promise<JobRecord> {
    if (job.state === 'QUEUED') await this.opts.queue.requeueStored?.(job.id, job.spec.priority);
    return job;
  }

  /** `created`: the store has the record (and counts it for the quota from now on). */
  private async create(spec: ValidSpec, clientRequestId: string, tenant: string, created: () => void): Promise<JobRecord> {
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
      ...(tenant ? { tenant } : {}),
    };
    const stored = await this.opts.store.create(job);
    created();
    // Another submit with this client request id got there first (a shared store decides atomically).
    if (stored.id !== job.id) return this.queuedAgain(stored);
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

  list(filter: JobListFilter): Promise<JobRecord[]> {
    return this.opts.store.list(filter);
  }

  /**
   * Whether a submit may go on: the job of an earlier submit with this
   * client request id when there is one; else RESOURCE_EXHAUSTED when the
   * queue or the tenant's quota is full, UNAVAILABLE when shutting down.
   * Submit checks it before taking in an upload too, so a tenant over its
   * quota never gets its input decoded.
   */
  async admit(clientRequestId: string, tenant = ''): Promise<JobRecord | undefined> {
    return (await this.admission(clientRequestId, tenant, false)).existing;
  }

  /**
   * `admit`; with `reserve`, a submit that may go on holds its place in the
   * tenant's quota until `release` (called once its record is created).
   */
  private async admission(clientRequestId: string, tenant: string, reserve: boolean): Promise<{ existing?: JobRecord; release: () => void }> {
    const none = { release: () => undefined };
    if (this.draining) throw new UnavailableError('coordinator is shutting down');
    if (clientRequestId) {
      const existing = await this.opts.store.findByClientRequestId(clientRequestId);
      if (existing) return { ...none, existing };
    }
    if ((await this.opts.queue.size()) >= this.opts.maxQueued) {
      throw new ResourceExhaustedError(`queue is full (${this.opts.maxQueued} jobs waiting); retry later`);
    }
    if (!tenant || !(await this.checkTenantQuota(tenant, reserve))) return none;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const a = this.admitting.get(tenant)!;
        if (--a.count === 0) this.admitting.delete(tenant);
        for (const wake of a.waiting.splice(0)) wake();
      },
    };
  }

  /**
   * Per-tenant admission: queued and unfinished jobs of the tenant (the
   * store's index, constant work) against its limits; with `reserve`, takes
   * a place in `admitting` when there is room. False when nothing was
   * reserved.
   */
  private async checkTenantQuota(tenant: string, reserve: boolean): Promise<boolean> {
    const { maxQueuedPerTenant: maxQueued = 0, maxActivePerTenant: maxActive = 0 } = this.opts;
    if (!maxQueued && !maxActive) return false;
    for (;;) {
      const load = await this.opts.store.tenantLoad(tenant);
      const a = this.admitting.get(tenant);
      const n = a?.count ?? 0;
      if ((!maxQueued || load.queued + n < maxQueued) && (!maxActive || load.unfinished + n < maxActive)) {
        if (!reserve) return false;
        // In the same turn as the check: the next submit's check counts this one.
        if (a) a.count++;
        else this.admitting.set(tenant, { count: 1, waiting: [] });
        return true;
      }
      if (!a) {
        if (maxQueued && load.queued >= maxQueued) throw new ResourceExhaustedError(`tenant "${tenant}" has ${load.queued} jobs waiting, its limit; retry when one has started`);
        throw new ResourceExhaustedError(`tenant "${tenant}" has ${load.unfinished} unfinished jobs, its limit; retry when one has finished`);
      }
      // Full only with submits still being created, and for a moment the store counts a new
      // record before its submit lets go of its place: look again once one is created (milliseconds).
      await new Promise<void>((wake) => a.waiting.push(wake));
    }
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
    if (this.opts.cancels) return this.cancelShared(id);
    return this.transition(job, 'CANCELED', 'canceled');
  }

  /**
   * Cancel with a shared store: the request reaches the coordinator running
   * the job (or the one that takes it next); a job still queued is canceled
   * here, atomically against a coordinator taking it.
   */
  private async cancelShared(id: string): Promise<JobRecord> {
    await this.opts.cancels!.request(id);
    let changed = false;
    const after = await this.opts.store.update(id, (j) => {
      if (j.state !== 'QUEUED') return undefined;
      changed = true;
      return { ...j, state: 'CANCELED', finishedAtMs: Date.now() };
    }, 'canceled while queued');
    if (!after) throw new NotFoundError('job', id);
    if (changed) {
      this.opts.log.info('job canceled', { job: id, message: 'canceled while queued' });
      this.emit(after, 'canceled while queued');
      return after;
    }
    if (TERMINAL_STATES.has(after.state) || !this.opts.store.watch) return after;
    // Running on another coordinator: wait (bounded) for it to record the end.
    let latest = after;
    let finish!: (job: JobRecord) => void;
    const ended = new Promise<JobRecord>((resolve) => (finish = resolve));
    const unsubscribe = await this.opts.store.watch(id, (j) => {
      latest = j;
      if (TERMINAL_STATES.has(j.state)) finish(j);
    });
    const timer = setTimeout(() => finish(latest), this.opts.remoteCancelWaitMs ?? 30_000);
    try {
      return await ended;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }

  /**
   * Calls `listener` with the current job, then with every event until the
   * job ends. Returns an unsubscribe function.
   */
  async watch(id: string, listener: (e: JobEventPayload) => void): Promise<() => void> {
    if (this.opts.store.watch) {
      // Shared store: every coordinator's writes of the job, whoever runs it.
      await this.get(id);
      let first = true;
      return this.opts.store.watch(id, (job, message) => {
        listener({ job, message: first ? `state ${job.state}` : message });
        first = false;
      });
    }
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
    this.unsubscribeCancels();
    this.loopAbort.abort(new UnavailableError('shutting down'));
    for (const ctl of this.running.values()) ctl.abort(new UnavailableError('coordinator is shutting down'));
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.loopAbort.signal.aborted) {
      let lease: JobLease;
      try {
        lease = await this.opts.queue.take(this.loopAbort.signal);
        failures = 0;
      } catch (err) {
        if (this.loopAbort.signal.aborted) return;
        // A shared queue whose broker is gone for a while: keep trying (1 s, 2 s, ... 10 s apart),
        // so the coordinator takes jobs again once it is back, without a restart.
        const waitMs = Math.min(10_000, 1_000 * 2 ** Math.min(failures++, 4));
        this.opts.log.warn('taking a job failed; trying again', { error: errorMessage(err), inMs: waitMs });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          this.loopAbort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        continue;
      }
      try {
        await this.runOne(lease);
      } catch (err) {
        this.opts.log.error('run loop error', { job: lease.id, error: errorMessage(err) });
      }
    }
  }

  private async runOne(taken: JobLease): Promise<void> {
    const id = taken.id;
    const here = this.leases.get(id);
    if (here) {
      here.current = taken;
      this.opts.log.info('job handed out again while it runs here; it keeps running on the new lease', { job: id, delivery: taken.redeliveries + 1 });
      return;
    }
    const held = { current: taken };
    this.leases.set(id, held);
    try {
      await this.runLeased(held);
    } finally {
      if (this.leases.get(id) === held) this.leases.delete(id);
    }
  }

  private async runLeased(held: { current: JobLease }): Promise<void> {
    const lease = {
      get id() {
        return held.current.id;
      },
      get redeliveries() {
        return held.current.redeliveries;
      },
      working: () => held.current.working(),
      ack: () => held.current.ack(),
      release: () => held.current.release(),
    } satisfies JobLease;
    const id = lease.id;
    const found = await this.opts.store.get(id);
    // Unknown, or finished before (its coordinator stopped between the last write and the ack).
    if (!found || TERMINAL_STATES.has(found.state)) {
      await lease.ack();
      // A job canceled while queued leaves its request behind until its message comes by.
      await this.opts.cancels?.clear(id).catch(() => undefined);
      return;
    }
    if (this.opts.cancels && (await this.opts.cancels.isRequested(id))) {
      const canceled = await this.opts.store.update(id, (j) => (TERMINAL_STATES.has(j.state) ? undefined : { ...j, state: 'CANCELED', finishedAtMs: Date.now() }), 'canceled');
      if (canceled) this.emit(canceled, 'canceled');
      await lease.ack();
      await this.opts.cancels.clear(id).catch(() => undefined);
      return;
    }
    // QUEUED: a fresh start. RUNNING or ENCODING: a shared queue handed the job over
    // because its coordinator stopped keeping the lease; the render resumes it from
    // its checkpoint. The atomic write makes this coordinator the job's only writer.
    const claimed = await this.opts.store.update(id, (j) => {
      if (j.state === 'QUEUED') return { ...j, state: 'RUNNING', startedAtMs: Date.now() };
      if (j.state === 'RUNNING' || j.state === 'ENCODING') return { ...j };
      return undefined;
    }, found.state === 'QUEUED' ? 'started' : 'taken over after its coordinator stopped');
    if (!claimed || TERMINAL_STATES.has(claimed.state) || claimed.state === 'QUEUED') {
      await lease.ack();
      return;
    }
    const resumedRun = found.state !== 'QUEUED';
    const startMessage = resumedRun ? `taken over after its coordinator stopped (delivery ${lease.redeliveries + 1})` : 'started';
    this.opts.log.info(resumedRun ? 'job taken over' : 'job running', { job: id, message: startMessage });
    this.emit(claimed, startMessage);
    const ctl = new AbortController();
    // Every in-flight worker call listens for the job's cancel: many at once is expected.
    setMaxListeners(0, ctl.signal);
    this.running.set(id, ctl);
    // Closing while this job was being claimed: close() aborted the jobs it
    // saw running, not this one; stop it too, or close() waits for its end.
    if (this.loopAbort.signal.aborted) ctl.abort(new UnavailableError('coordinator is shutting down'));
    let outcome: RunOutcome;
    try {
      outcome = await runClaimedJob(
        {
          store: this.opts.store,
          render: this.opts.render,
          log: this.opts.log,
          progressIntervalMs: this.opts.progressIntervalMs,
          leaseRefreshMs: this.opts.leaseRefreshMs,
          emit: (job, message) => this.emit(job, message),
          transition: (job, state, message) => this.transition(job, state, message),
          draining: () => this.draining,
        },
        claimed,
        lease,
        ctl,
      );
    } finally {
      this.running.delete(id);
    }
    if (outcome === 'left') return;
    // The job has ended here for good: its checkpoint and cancel request are of no more use.
    await this.opts.checkpoints?.delete(id).catch((err: unknown) => this.opts.log.warn('deleting checkpoint failed', { job: id, error: errorMessage(err) }));
    await this.opts.cancels?.clear(id).catch(() => undefined);
  }

  private async transition(job: JobRecord, state: JobState, message: string): Promise<JobRecord> {
    if (job.state === state) return job;
    if (!canTransition(job.state, state)) throw new FailedPreconditionError(`job ${job.id} cannot go from ${job.state} to ${state}`);
    job.state = state;
    if (TERMINAL_STATES.has(state) && !job.finishedAtMs) job.finishedAtMs = Date.now();
    await this.opts.store.put(job, message);
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
