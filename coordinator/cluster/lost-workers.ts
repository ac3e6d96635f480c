/**
 * Workers that left without a drain — their NATS announcement lapsed — kept
 * for a while so that they count as lost (`propeller_workers{state="lost"}`,
 * alert PropellerWorkerLost) instead of vanishing: on Kubernetes the pod's
 * scrape target goes with the pod, so nothing else would say a GPU is gone.
 */

/** A worker gone without a drain. */
export interface LostWorker {
  readonly address: string;
  /** Its id when it was last probed (the address when it never answered). */
  readonly id: string;
  readonly device: string;
  /** Why it counts as lost, e.g. "not refreshed for 10400 ms". */
  readonly reason: string;
  /** When it was lost, ms on the list's clock. */
  readonly lostAtMs: number;
}

/** One hour: long enough for an operator to see what went missing, short enough not to hold every autoscaled pod of the day. */
export const DEFAULT_LOST_RETENTION_MS = 3_600_000;

/** Lost workers by address, each until it comes back or `retentionMs` passes. */
export class LostWorkers {
  private readonly byAddress = new Map<string, LostWorker>();

  constructor(
    private readonly retentionMs = DEFAULT_LOST_RETENTION_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `worker` is gone without a drain, for `reason`. */
  record(worker: { address: string; id: string; device: string }, reason: string): void {
    this.byAddress.set(worker.address, { address: worker.address, id: worker.id, device: worker.device, reason, lostAtMs: this.now() });
  }

  /** The worker at `address` is back (announced again): no longer lost. */
  found(address: string): void {
    this.byAddress.delete(address);
  }

  /** Workers lost within the retention, oldest first. */
  list(): LostWorker[] {
    const oldest = this.now() - this.retentionMs;
    for (const [address, l] of this.byAddress) if (l.lostAtMs < oldest) this.byAddress.delete(address);
    return [...this.byAddress.values()];
  }
}
