/**
 * One claimed job's run on this coordinator: its lease kept alive, its
 * progress throttled into events and store writes, the render, and the
 * outcome — SUCCEEDED, CANCELED or FAILED here, or left to another
 * coordinator (lease lost, graceful hand-back, a store outage) without a
 * word written. The job manager (job-manager.ts) takes and claims jobs and
 * tidies up after an ended one.
 */
import { CanceledError, StoreOutageError, UnavailableError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { JobRecord } from './job.ts';
import { LeaseLostError, type JobLease, type JobStore } from './ports.ts';
import { metricsOf, progressOf, type JobReporter, type RenderFn } from './render-events.ts';

export { RESUMED_FROM_STEP, type JobReporter, type RenderFn } from './render-events.ts';

/** What a run needs of the job manager. */
export interface JobRunContext {
  store: JobStore;
  render: RenderFn;
  log: Logger;
  /** Least time between progress events (and progress writes) of the job. */
  progressIntervalMs: number;
  /** How often the lease is kept alive; default 10 s. */
  leaseRefreshMs?: number;
  emit(job: JobRecord, message: string): void;
  /** Writes the job's new state as its owner (a cancel goes through `cancel`). */
  transition(job: JobRecord, state: 'ENCODING' | 'SUCCEEDED' | 'FAILED', message: string): Promise<JobRecord>;
  /** Writes the job CANCELED (the manager's one way to); resolves with the stored record. */
  cancel(job: JobRecord, message: string): Promise<JobRecord>;
  /** The coordinator is shutting down. */
  draining(): boolean;
}

/** `ended`: the job's outcome is written here for good; `left`: another coordinator or another try has it. */
export type RunOutcome = 'ended' | 'left';

/** Runs `job` (claimed, RUNNING) to its outcome; `ctl` aborts it (cancel, shutdown, lease lost). */
export async function runClaimedJob(ctx: JobRunContext, job: JobRecord, lease: JobLease, ctl: AbortController): Promise<RunOutcome> {
  const id = job.id;
  const keepAlive = setInterval(() => lease.working(), ctx.leaseRefreshMs ?? 10_000);
  keepAlive.unref();
  let lastEmit = 0;
  const write = (message: string) => {
    ctx.store.put(job, message).catch((err: unknown) => {
      if (err instanceof LeaseLostError) ctl.abort(err);
      else ctx.log.warn('writing job progress failed', { job: id, error: errorMessage(err) });
    });
  };
  const reporter: JobReporter = (event) => {
    const patch = progressOf(event);
    if (patch) Object.assign(job.progress, patch);
    const metrics = metricsOf(event);
    if (metrics) Object.assign(job.metrics, metrics);
    if (event.kind === 'encoding') {
      void ctx.transition(job, 'ENCODING', 'decoding and encoding').catch((err: unknown) => {
        if (err instanceof LeaseLostError) ctl.abort(err);
      });
    } else if (event.kind === 'resumed') {
      // Told at once, whatever the progress interval: Watch shows where the run went on from.
      const message = `resumed from checkpoint at step ${event.step}`;
      ctx.log.info('job resumed', { job: id, step: event.step });
      write(message);
      ctx.emit(job, message);
    } else if (patch) {
      const now = Date.now();
      if (now - lastEmit >= ctx.progressIntervalMs) {
        lastEmit = now;
        write('progress');
        ctx.emit(job, 'progress');
      }
    }
  };
  try {
    const { outputBytes } = await ctx.render(job, reporter, ctl.signal);
    job.outputBytes = outputBytes;
    job.finishedAtMs = Date.now();
    await ctx.transition(job, 'SUCCEEDED', `done in ${((job.finishedAtMs - job.startedAtMs) / 1000).toFixed(1)} s`);
    await lease.ack();
    return 'ended';
  } catch (err) {
    const reason: unknown = ctl.signal.aborted ? ctl.signal.reason : undefined;
    if (reason instanceof LeaseLostError || err instanceof LeaseLostError) {
      // Another coordinator runs the job now: write nothing more, ack nothing.
      ctx.log.warn('job taken over elsewhere; stopped here', { job: id });
      return 'left';
    }
    if (reason instanceof UnavailableError && ctx.draining() && (await lease.release())) {
      // Graceful shutdown of a shared queue: another coordinator resumes from the checkpoint.
      ctx.log.info('job handed back for another coordinator', { job: id });
      return 'left';
    }
    if (err instanceof StoreOutageError && !(reason instanceof CanceledError)) {
      // The shared store did not answer (an output upload, a checkpoint read): nothing is
      // wrong with the job. Leave it RUNNING for the queue to hand out again (now, or
      // when the lease lapses), and whoever takes it goes on from its checkpoint.
      const released = await lease.release().catch(() => false);
      ctx.log.warn('job interrupted by a store outage; left for another try', { job: id, error: errorMessage(err), released });
      return 'left';
    }
    job.finishedAtMs = Date.now();
    if (reason instanceof CanceledError) {
      Object.assign(job, await ctx.cancel(job, 'canceled'));
    } else {
      job.error = errorMessage(err);
      ctx.log.warn('job failed', { job: id, error: job.error });
      await ctx.transition(job, 'FAILED', job.error);
    }
    await lease.ack();
    return 'ended';
  } finally {
    clearInterval(keepAlive);
  }
}
