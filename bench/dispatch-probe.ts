/**
 * Watches the Evaluate calls a coordinator makes, from the outside: every
 * registry entry's client is wrapped (the dispatcher itself is untouched), so
 * the scaling bench can say where time goes — how big the micro-batches
 * were, how busy the simulated GPUs were by their own latency model, and how
 * long every worker sat idle at once (the coordinator's critical path).
 */
import type { WorkerRegistry } from '../coordinator/cluster/worker-registry.ts';
import { modelledSeconds, type SimProfile } from '../worker/sim-profiles.ts';

/** What the probe saw between `attach` and `read`. */
export interface DispatchStats {
  calls: number;
  items: number;
  /** Sum over calls of the profile's latency for the call's batch size: simulated GPU-seconds of work. */
  modelledSeconds: number;
  /**
   * Time with no Evaluate call in flight at all, from `start` to `read`: the
   * job's setup, the serial part of every round (merge, scheduler step, the
   * next round's first windows) and its tail — the coordinator's critical path.
   */
  allIdleSeconds: number;
  /** Every call: worker address, items, the first item's timestep, start and end (performance.now() ms), for timelines. */
  timeline: { worker: string; items: number; timestep: number; startMs: number; endMs: number }[];
}

/** A probe attached to a registry's workers. */
export interface DispatchProbe {
  /** Starts the idle clock (at submit). */
  start(): void;
  read(): DispatchStats;
}

/**
 * Wraps `evaluate` of every entry now in `registry`. Call before the job
 * starts; entries added later are not watched.
 */
export function attachDispatchProbe(registry: WorkerRegistry, profile: SimProfile): DispatchProbe {
  const s: DispatchStats = { calls: 0, items: 0, modelledSeconds: 0, allIdleSeconds: 0, timeline: [] };
  let inFlight = 0;
  let idleSince: number | undefined;
  for (const entry of registry.all()) {
    const client = entry.client;
    const evaluate = client.evaluate.bind(client);
    client.evaluate = (req, timeoutMs, signal, onReceived) => {
      const n = req.items?.length ?? 0;
      s.calls++;
      s.items += n;
      s.modelledSeconds += modelledSeconds(profile, n);
      if (idleSince !== undefined) s.allIdleSeconds += (performance.now() - idleSince) / 1000;
      idleSince = undefined;
      inFlight++;
      const startMs = performance.now();
      const done = () => {
        s.timeline.push({ worker: entry.address, items: n, timestep: Number(req.items?.[0]?.timestep ?? NaN), startMs, endMs: performance.now() });
        inFlight--;
        if (inFlight === 0) idleSince = performance.now();
      };
      const call = evaluate(req, timeoutMs, signal, onReceived);
      call.then(done, done);
      return call;
    };
  }
  return {
    start: () => {
      idleSince = performance.now();
    },
    read: () => ({ ...s, allIdleSeconds: s.allIdleSeconds + (idleSince === undefined ? 0 : (performance.now() - idleSince) / 1000) }),
  };
}
