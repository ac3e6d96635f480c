/**
 * What the JobService answered, seen from a gRPC server interceptor (so the
 * service itself stays free of metrics): Submits refused, by status code,
 * and jobs canceled before they ever ran. Those jobs never reach the render,
 * so the render's `propeller_jobs_completed_total` cannot count them.
 */
import * as grpc from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';

const SUBMIT = '/propeller.v1.JobService/Submit';
const CANCEL = '/propeller.v1.JobService/Cancel';

/** Codes a Submit is refused with in practice: their series exist from the start, so the first refusal shows in rate(). */
const USUAL_REFUSALS = ['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'FAILED_PRECONDITION', 'UNAVAILABLE'];

/** Job ids already counted as canceled while queued: a repeated Cancel answers the same job again. */
const REMEMBERED_CANCELS = 10_000;

/** The job a Cancel answered, as far as the counter needs it. */
interface CanceledJob {
  id?: string;
  state?: string | number;
  startedAtMs?: unknown;
}

/** The API-side counters and the interceptor that feeds them. */
export class ApiCallMetrics {
  private readonly rejected: Counter<'code'>;
  private readonly canceledQueued: Counter;
  private readonly counted = new Set<string>();

  constructor(registry: Registry) {
    this.rejected = new Counter({
      name: 'propeller_submit_rejections_total',
      help: 'Submits this coordinator refused, by gRPC status code (INVALID_ARGUMENT: a bad spec; RESOURCE_EXHAUSTED: queue or tenant quota full, memory; UNAUTHENTICATED...).',
      labelNames: ['code'],
      registers: [registry],
    });
    this.canceledQueued = new Counter({
      name: 'propeller_jobs_canceled_queued_total',
      help: 'Jobs canceled through this coordinator before they started (they never ran, so propeller_jobs_completed_total does not count them).',
      registers: [registry],
    });
    for (const code of USUAL_REFUSALS) this.rejected.inc({ code }, 0);
  }

  /** The server interceptor: `new grpc.Server({ interceptors: [metrics.interceptor] })`. */
  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    if (method.path !== SUBMIT && method.path !== CANCEL) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      sendMessage: (message, next) => {
        if (method.path === CANCEL) this.canceled(message as CanceledJob);
        next(message);
      },
      sendStatus: (status, next) => {
        if (method.path === SUBMIT && status.code !== grpc.status.OK) this.rejected.inc({ code: grpc.status[status.code] ?? String(status.code) });
        next(status);
      },
    });
  };

  private canceled(job: CanceledJob): void {
    const never = !job.startedAtMs || Number(job.startedAtMs) === 0;
    if (!job.id || (job.state !== 'CANCELED' && job.state !== 6) || !never || this.counted.has(job.id)) return;
    this.counted.add(job.id);
    if (this.counted.size > REMEMBERED_CANCELS) this.counted.delete(this.counted.values().next().value!);
    this.canceledQueued.inc();
  }
}
