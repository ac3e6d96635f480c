/**
 * The capacity model of the elastic (`auto`) sampler: how many Picard points
 * a job may evaluate per round so the cluster's slots are used and nobody
 * else waits.
 *
 * Slots are the serving workers' Evaluate capacity (one per GPU worker).
 * Every running job on this coordinator holds a claim:
 *
 * - a fixed job (sequential, or Picard with its own window) needs
 *   `windowsPerStep x window` slots per round, always;
 * - an elastic job needs `windowsPerStep` (window 1: its sequential step)
 *   and shares what is left with the other elastic jobs in proportion to
 *   their windows per step.
 *
 * Jobs waiting in the queue that this coordinator could start now count one
 * slot each (they are about to take one). So a job alone on 16 workers with
 * one layout window per step gets window 16; with three windows per step,
 * 5; eight single-window jobs together get window 2 each; a job with more
 * windows per step than slots gets 1. The window is asked again before every
 * round, so it grows when a job ends and shrinks when one arrives; the
 * dispatcher runs speculative points after everybody's necessary ones in
 * the meantime (dispatcher.ts), so a job's extra points never delay another
 * job's steps.
 *
 * The model sees this coordinator's jobs only: coordinators sharing workers
 * (JetStream deployments) do not see each other's claims, and their
 * necessary work still goes first at every worker.
 */

/** What one running job asks of the workers per round. */
export interface JobDemand {
  model: string;
  /** Layout windows per denoising step (model evaluations per Picard point). */
  windowsPerStep: number;
  /** An elastic job takes a share of the spare slots; a fixed one runs `window` points per round. */
  elastic: boolean;
  /** Points per round of a fixed job (1 for sequential sampling). */
  window: number;
}

export interface CapacitySource {
  /** Slots of the serving workers that have `model`. */
  slots(model: string): number;
  /** Whether jobs of models `a` and `b` compete for the same workers. */
  shareWorkers(a: string, b: string): boolean;
  /** Jobs waiting that this coordinator could start now. */
  waiting(): number | Promise<number>;
}

/** A running job's claim: asks for its next window, released when the job ends. */
export interface CapacityClaim {
  /** The window the job may use for its next round, in `[1, limit]`. */
  windowFor(limit: number): Promise<number>;
  /** The window the job would get if it had the workers to itself. */
  aloneWindow(limit: number): number;
  release(): void;
}

export class CapacityModel {
  private readonly claims = new Map<symbol, JobDemand>();

  constructor(private readonly source: CapacitySource) {}

  /** Registers a running job's demand until `release()`. */
  claim(demand: JobDemand): CapacityClaim {
    if (!(Number.isInteger(demand.windowsPerStep) && demand.windowsPerStep >= 1)) throw new RangeError(`windowsPerStep must be an integer >= 1, got ${demand.windowsPerStep}`);
    if (!(Number.isInteger(demand.window) && demand.window >= 1)) throw new RangeError(`window must be an integer >= 1, got ${demand.window}`);
    const key = Symbol(demand.model);
    this.claims.set(key, { ...demand });
    return {
      windowFor: async (limit) => this.window(key, limit, await this.source.waiting()),
      aloneWindow: (limit) => clamp(Math.floor(this.source.slots(demand.model) / demand.windowsPerStep), limit),
      release: () => void this.claims.delete(key),
    };
  }

  /** Jobs holding a claim now. */
  get running(): number {
    return this.claims.size;
  }

  private window(key: symbol, limit: number, waiting: number): number {
    const me = this.claims.get(key);
    if (!me) return 1;
    let spare = this.source.slots(me.model) - me.windowsPerStep - Math.max(0, waiting);
    let elasticWeight = me.windowsPerStep;
    for (const [k, other] of this.claims) {
      if (k === key || !this.source.shareWorkers(me.model, other.model)) continue;
      spare -= other.elastic ? other.windowsPerStep : other.windowsPerStep * other.window;
      if (other.elastic) elasticWeight += other.windowsPerStep;
    }
    if (spare <= 0) return 1;
    const mine = (spare * me.windowsPerStep) / elasticWeight;
    // Extra points per round: one per `windowsPerStep` slots of the share.
    return clamp(1 + Math.floor(mine / me.windowsPerStep + 1e-9), limit);
  }
}

function clamp(w: number, limit: number): number {
  return Math.max(1, Math.min(Math.max(1, Math.floor(limit)), Number.isFinite(w) ? w : 1));
}
