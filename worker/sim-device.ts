import type { Logger } from '../common/logger.ts';
import { describeSimProfile, modelledSeconds, type SimProfile } from './sim-profiles.ts';

/** What a simulated GPU has done so far. */
export interface SimStats {
  /** Batches (Evaluate calls) timed. */
  batches: number;
  items: number;
  /** Sum of the modelled batch latencies. */
  modelledSeconds: number;
  /** Real compute the modelled time already covered (ONNX Runtime on the CPU, and its queue). */
  realSeconds: number;
  /** Time spent waiting out the rest of the model. */
  waitedSeconds: number;
  /** Batches whose real compute took longer than the model: the host, not the model, set their latency. */
  overruns: number;
  /** How much longer than modelled those batches took, in total. */
  overrunSeconds: number;
}

/** Clock and timer, injectable for tests. */
export interface SimClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: SimClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A simulated GPU: one batch at a time, each taking `fixed + perItem * b`.
 *
 * The worker computes a batch's outputs for real, then calls
 * {@link SimulatedGpu.afterCompute} with the seconds since the call arrived.
 * The GPU is a serial resource, as a real one is (and as the worker's
 * SerialQueue makes ONNX Runtime): a batch starts when it has arrived and the
 * previous batch is done, and ends `modelled` seconds later. The real compute
 * ran inside that span, so only the rest is waited out; when the real compute
 * took longer than the model, the batch answers at once and counts as an
 * overrun (the host was too slow to simulate this profile faithfully).
 */
export class SimulatedGpu {
  readonly stats: SimStats = { batches: 0, items: 0, modelledSeconds: 0, realSeconds: 0, waitedSeconds: 0, overruns: 0, overrunSeconds: 0 };
  /** When the batch on the GPU ends (clock ms); batches queue behind it. */
  private busyUntil = -Infinity;

  constructor(
    readonly profile: SimProfile,
    private readonly log: Logger,
    private readonly clock: SimClock = REAL_CLOCK,
  ) {
    log.warn(`SIMULATED DEVICE ${describeSimProfile(profile)}: outputs are computed for real on the CPU, latencies come from the model above`);
  }

  /** Device string the worker reports: `sim:<profile>`. */
  get device(): string {
    return `sim:${this.profile.name}`;
  }

  /**
   * The DenoiserService hook: `items` evaluated in `elapsedSeconds` since the
   * call arrived; resolves when the modelled batch is over. Arrow property,
   * so it can be passed as the hook as is.
   */
  readonly afterCompute = async (items: number, elapsedSeconds: number): Promise<void> => {
    const now = this.clock.now();
    const arrived = now - elapsedSeconds * 1000;
    const modelled = modelledSeconds(this.profile, items) * 1000;
    const start = Math.max(arrived, this.busyUntil);
    const end = start + modelled;
    const s = this.stats;
    s.batches++;
    s.items += items;
    s.modelledSeconds += modelled / 1000;
    s.realSeconds += elapsedSeconds;
    if (end <= now) {
      // Real compute (or the queue before it) exceeded the model: answer now, and say so.
      this.busyUntil = now;
      s.overruns++;
      s.overrunSeconds += (now - end) / 1000;
      if (s.overruns === 1) this.log.warn('simulated GPU overrun: real compute took longer than the modelled latency', { items, modelledMs: modelled.toFixed(1), elapsedMs: (elapsedSeconds * 1000).toFixed(1) });
      return;
    }
    this.busyUntil = end;
    s.waitedSeconds += (end - now) / 1000;
    await this.clock.sleep(end - now);
  };

  /** Logs the totals (at drain): how much of the latency was modelled, real, or overrun. */
  logSummary(): void {
    const s = this.stats;
    this.log.info(`simulated device ${this.device} summary`, {
      batches: s.batches,
      items: s.items,
      modelledSeconds: s.modelledSeconds.toFixed(3),
      realSeconds: s.realSeconds.toFixed(3),
      waitedSeconds: s.waitedSeconds.toFixed(3),
      overruns: s.overruns,
      overrunSeconds: s.overrunSeconds.toFixed(3),
    });
  }
}
