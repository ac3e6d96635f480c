import { ResourceExhaustedError } from '../../common/errors.ts';
import type { JobRecord } from './job.ts';
import type { JobQueue, JobStore } from './ports.ts';

/** The limits a Submit is admitted against. */
export interface AdmissionLimits {
  maxQueued: number;
  /** Queued jobs one tenant may have (0 or unset: no limit of its own); tenant '' (auth off) is exempt. */
  maxQueuedPerTenant?: number;
  /** Unfinished jobs one tenant may have (0 or unset: no limit of its own); tenant '' is exempt. */
  maxActivePerTenant?: number;
}

/** A Submit's answer from admission: the job of an earlier Submit with its request id, or a place to `release`. */
export interface Admitted {
  existing?: JobRecord;
  /** Gives back the place held in the tenant's quota (once the record is created, or the Submit failed). Idempotent. */
  release(): void;
}

/**
 * Whether a Submit may go on, in constant work however many jobs the store
 * holds: the client request id's job (one lookup), the queue's size, and the
 * tenant's queued and unfinished jobs from the store's index
 * (`JobStore.tenantLoad`). Submits admitted but whose record is not created
 * yet hold a place, so a burst of concurrent submits cannot all pass on the
 * same count.
 */
export class SubmitAdmission {
  /**
   * Per tenant, submits that passed the quota check and whose record is not
   * created yet (counted as queued jobs), and the checks waiting for one of
   * them to be created.
   */
  private readonly admitting = new Map<string, { count: number; waiting: (() => void)[] }>();

  constructor(
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly limits: AdmissionLimits,
  ) {}

  /**
   * The job of an earlier submit with this client request id when there is
   * one; else RESOURCE_EXHAUSTED when the queue or the tenant's quota is full.
   * With `reserve`, a submit that may go on holds its place in the tenant's
   * quota until `release`.
   */
  async admit(clientRequestId: string, tenant: string, reserve: boolean): Promise<Admitted> {
    const none = { release: () => undefined };
    if (clientRequestId) {
      const existing = await this.store.findByClientRequestId(clientRequestId);
      if (existing) return { ...none, existing };
    }
    if ((await this.queue.size()) >= this.limits.maxQueued) {
      throw new ResourceExhaustedError(`queue is full (${this.limits.maxQueued} jobs waiting); retry later`);
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
    const { maxQueuedPerTenant: maxQueued = 0, maxActivePerTenant: maxActive = 0 } = this.limits;
    if (!maxQueued && !maxActive) return false;
    for (;;) {
      const load = await this.store.tenantLoad(tenant);
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
}
