import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { CanceledError, FailedPreconditionError, NotFoundError, UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { TERMINAL_STATES, canTransition, emptyProgress, type JobRecord, type JobState } from './job.ts';
import { JobCancel } from './job-cancel.ts';
import { JobEvents, type JobEventPayload } from './job-events.ts';
import type { CancelRequests, CheckpointStore, JobCounts, JobLease, JobListFilter, JobQueue, JobStore, UnfinishedGroup } from './ports.ts';
import type { ValidSpec } from './spec.ts';
import { runClaimedJob, type RunOutcome } from './job-run.ts';
import type { RenderFn } from './render-events.ts';
import { HeldLeases } from './held-leases.ts';
import { takeLoop } from './take-loop.ts';
import { SubmitAdmission, type AdmissionLimits, type Admitted } from './submit-admission.ts';

export { RESUMED_FROM_STEP, type JobReporter, type RenderEvent, type RenderFn } from './render-events.ts';
export type { JobEventPayload } from './job-events.ts';

export interface JobManagerOptions extends AdmissionLimits {
  store: JobStore;
  queue: JobQueue;
  render: RenderFn;
  maxConcurrentJobs: number;
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
  private readonly events = new JobEvents();
  private readonly admission: SubmitAdmission;
  private readonly canceller: JobCancel;
  private readonly running = new Map<string, AbortController>();
  /** The lease each job taken here is kept and ended with. */
  private readonly leases = new HeldLeases();
  private readonly loopAbort = new AbortController();
  private loops: Promise<void>[] = [];
  private draining = false;
  private readonly unsubscribeCancels: () => void;
  /** Jobs whose cancel request came while this coordinator was claiming them. */
  private readonly canceledWhileClaimed = new Set<string>();

  constructor(private readonly opts: JobManagerOptions) {
    this.admission = new SubmitAdmission(opts.store, opts.queue, opts);
    this.canceller = new JobCancel({ ...opts, events: this.events, runningHere: (id) => this.running.get(id) });
    // A cancel asked of another coordinator stops the job here when it runs here.
    this.unsubscribeCancels =
      opts.cancels?.subscribe((id) => {
        const ctl = this.running.get(id);
        if (ctl) ctl.abort(new CanceledError('canceled by request'));
        // Taken here and being claimed (it looked for a request before this one came): stop it as it starts.
        else if (this.leases.has(id)) this.canceledWhileClaimed.add(id);
      }) ?? (() => undefined);
  }

  /** Starts the run loops (one per concurrent job slot). */
  start(): void {
    for (let i = 0; i < this.opts.maxConcurrentJobs; i++) this.loops.push(takeLoop(this.opts.queue, this.loopAbort.signal, this.opts.log, (lease) => this.runOne(lease)));
  }

  /** Queues a job of `tenant` ('' when authentication is off); RESOURCE_EXHAUSTED past the queue limits. */
  async submit(spec: ValidSpec, clientRequestId: string, tenant = ''): Promise<JobRecord> {
    const admitted = await this.admit(clientRequestId, tenant, true);
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

  /** Jobs per state, from the store's index (constant work: what the metrics scrape reads). */
  counts(): Promise<JobCounts> {
    return this.opts.store.counts();
  }

  /** Unfinished jobs per tenant, state and priority, from the store's index (constant work). */
  unfinishedGroups(): Promise<UnfinishedGroup[]> {
    return this.opts.store.unfinishedGroups();
  }

  /**
   * Whether a submit may go on: the job of an earlier submit with this
   * client request id when there is one; else RESOURCE_EXHAUSTED when the
   * queue or the tenant's quota is full, UNAVAILABLE when shutting down
   * (submit-admission.ts). Submit checks it before taking in an upload too,
   * so a tenant over its quota never gets its input decoded.
   */
  admit(clientRequestId: string, tenant?: string): Promise<JobRecord | undefined>;
  /** With `reserve`, a submit that may go on holds its place in the tenant's quota until `release`. */
  admit(clientRequestId: string, tenant: string, reserve: true): Promise<Admitted>;
  async admit(clientRequestId: string, tenant = '', reserve = false): Promise<JobRecord | undefined | Admitted> {
    if (this.draining) throw new UnavailableError('coordinator is shutting down');
    const admitted = await this.admission.admit(clientRequestId, tenant, reserve);
    return reserve ? admitted : admitted.existing;
  }

  /** Cancels a job (job-cancel.ts): a running one stops dispatching within one round. */
  cancel(id: string): Promise<JobRecord> {
    return this.canceller.cancel(id);
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
    const off = this.events.on(id, listener);
    listener({ job, message: `state ${job.state}` });
    return off;
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

  /** Runs a job taken from the queue, unless it already runs here (held-leases.ts). */
  private async runOne(taken: JobLease): Promise<void> {
    const lease = this.leases.adopt(taken);
    if (!lease) {
      this.opts.log.info('job handed out again while it runs here; it keeps running on the new lease', { job: taken.id, delivery: taken.redeliveries + 1 });
      return;
    }
    try {
      await this.runLeased(lease);
    } finally {
      this.leases.drop(taken.id);
      this.canceledWhileClaimed.delete(taken.id);
    }
  }

  private async runLeased(lease: JobLease): Promise<void> {
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
      await this.canceller.write(id, 'canceled');
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
    if (this.canceledWhileClaimed.delete(id)) ctl.abort(new CanceledError('canceled by request'));
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
          cancel: async (job, message) => (await this.canceller.write(job.id, message, job)).job ?? job,
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

  /** Writes a state change of a job this coordinator owns (CANCELED goes through JobCancel.write). */
  private async transition(job: JobRecord, state: Exclude<JobState, 'CANCELED'>, message: string): Promise<JobRecord> {
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
    this.events.emit(job, message);
  }
}

/** Sortable, unguessable job id: time prefix + random suffix. */
function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}
