/**
 * Retries: what a failed Evaluate call means for the requests it carried.
 *
 * Evaluations are pure, so a failed copy's unanswered items go back to the
 * front of their request's queue, to another worker when one can take them
 * (eval-request.ts); an item that has failed `maxAttempts` times fails its
 * whole request. The failure itself goes to the registry, which decides
 * whether the worker keeps serving (suspect after a timeout, dead after
 * repeated errors). Items of requests already settled or canceled are dropped.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { EvalRequest } from './eval-request.ts';
import type { Segment } from './wire-batch.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

export interface RetryOptions {
  /** Failed copies per item before the whole evaluation fails. */
  maxAttempts: number;
  log: Logger;
}

export class Retries {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly opts: RetryOptions,
    /** Retried calls, counted here for metrics. */
    private readonly wire: { retries: number },
    /** Fails a request whose item used up its attempts. */
    private readonly fail: (p: EvalRequest, err: Error) => void,
  ) {}

  /** The call to `w` carrying `segments` failed with `err`. */
  failed(w: WorkerEntry, segments: readonly Segment[], err: unknown): void {
    const live = segments.filter(({ p }) => !p.done && !p.opts.signal?.aborted);
    if (live.length === 0) return;
    const msg = `worker ${w.address}: ${errorMessage(err)}`;
    this.registry.failed(w, err);
    // One line per failed call (a call may carry several requests' items).
    const retried = live.filter(({ p, items }) => !items.every((i) => p.results[i] !== undefined));
    if (retried.length > 0) {
      this.wire.retries++;
      const jobs = [...new Set(retried.map(({ p }) => p.opts.jobId ?? ''))].filter(Boolean).join(',');
      this.opts.log.warn('batch failed, will retry', { job: jobs, items: retried.reduce((n, s) => n + s.items.length, 0), error: msg });
    }
    for (const { p, items } of retried) {
      const exhausted = p.requeue(items, w.address, this.opts.maxAttempts, msg);
      if (exhausted !== undefined) this.fail(p, new Error(`evaluation failed after ${p.attempts[exhausted]} attempts; last error: ${msg}`));
    }
  }
}
