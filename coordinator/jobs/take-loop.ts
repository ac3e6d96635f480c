import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { JobLease, JobQueue } from './ports.ts';

/**
 * One run slot: takes a job from the queue and runs it, again and again
 * until `signal` aborts. When taking fails (a shared queue whose broker is
 * gone for a while) it keeps trying, 1 s, 2 s, ... 10 s apart, so the
 * coordinator takes jobs again once the broker is back, without a restart.
 */
export async function takeLoop(queue: JobQueue, signal: AbortSignal, log: Logger, run: (lease: JobLease) => Promise<void>): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let lease: JobLease;
    try {
      lease = await queue.take(signal);
      failures = 0;
    } catch (err) {
      if (signal.aborted) return;
      const waitMs = Math.min(10_000, 1_000 * 2 ** Math.min(failures++, 4));
      log.warn('taking a job failed; trying again', { error: errorMessage(err), inMs: waitMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      continue;
    }
    try {
      await run(lease);
    } catch (err) {
      log.error('run loop error', { job: lease.id, error: errorMessage(err) });
    }
  }
}
