import { setTimeout as sleep } from 'node:timers/promises';
import { JobClient } from '../../cli/job-client.ts';
import type { ChildServer } from '../../cli/worker-process.ts';
import { exited, type ProcessCluster } from './cluster.ts';
import type { NatsServer } from './nats-server.ts';
import { type Rng, portOf, workerOnPort } from './soak.ts';
import type { SoakJournal } from './soak-journal.ts';

/**
 * The soak test's faults, one at a time on a seeded schedule: kill -9 of a
 * worker (restarted on its port), kill -9 of a coordinator (restarted),
 * SIGSTOP/SIGCONT of a worker, restart of nats-server (same port and store).
 */

export type Fault = 'kill-worker' | 'kill-coordinator' | 'stop-worker' | 'restart-nats';
export const ALL_FAULTS: Fault[] = ['kill-worker', 'kill-coordinator', 'stop-worker', 'restart-nats'];

/** The fault kinds a comma-separated list names (all four when there is none); an unknown name throws. */
export function parseFaults(list: string | undefined): Fault[] {
  const faults = (list ? list.split(',').map((f) => f.trim()) : ALL_FAULTS) as Fault[];
  for (const f of faults) if (!ALL_FAULTS.includes(f)) throw new Error(`PROPELLER_SOAK_FAULTS: unknown fault "${f}" (known: ${ALL_FAULTS.join(', ')})`);
  return faults;
}

/** A process of the cluster that faults restart: its name changes with each generation. */
export interface Slot {
  /** Base name; the running process is `${base}` or `${base}#N` after restarts. */
  base: string;
  name: string;
  gen: number;
  child: ChildServer;
  client?: JobClient;
}

export class FaultInjector {
  readonly injected: Record<Fault, number> = { 'kill-worker': 0, 'kill-coordinator': 0, 'stop-worker': 0, 'restart-nats': 0 };

  constructor(
    private readonly cluster: ProcessCluster,
    private readonly rng: Rng,
    private readonly journal: SoakJournal,
    private readonly nats: NatsServer,
    private readonly workers: Slot[],
    private readonly coordinators: Slot[],
    private readonly coordinatorFlags: string[],
  ) {}

  async inject(fault: Fault): Promise<void> {
    const { rng, journal, cluster, workers } = this;
    this.injected[fault]++;
    switch (fault) {
      case 'kill-worker': {
        const w = rng.pick(workers);
        const port = portOf(w.child.address);
        const downMs = rng.int(500, 4_000);
        journal.expectExit(w.child);
        w.child.process.kill('SIGKILL');
        await exited(w.child);
        journal.note(`kill -9 worker ${w.name} (port ${port}); back in ${downMs} ms`);
        await sleep(downMs);
        w.gen++;
        w.name = `${w.base}#${w.gen}`;
        w.child = await workerOnPort(cluster, w.name, port);
        journal.watchExit(w.child, w.name);
        journal.note(`worker ${w.name} up on port ${port}`);
        return;
      }
      case 'kill-coordinator': {
        const c = rng.pick(this.coordinators);
        const downMs = rng.int(500, 4_000);
        // Its client stays in the round-robin while it is down, as a real client would: calls fail and are retried elsewhere.
        journal.expectExit(c.child);
        c.child.process.kill('SIGKILL');
        await exited(c.child);
        journal.note(`kill -9 coordinator ${c.name}; back in ${downMs} ms`);
        await sleep(downMs);
        c.gen++;
        c.name = `${c.base}#${c.gen}`;
        c.child = await cluster.coordinator(c.name, workers.map((w) => w.child), this.coordinatorFlags);
        journal.watchExit(c.child, c.name);
        c.client?.close();
        c.client = new JobClient(c.child.address, 10_000);
        journal.note(`coordinator ${c.name} up at ${c.child.address}`);
        return;
      }
      case 'stop-worker': {
        const w = rng.pick(workers);
        const stopMs = rng.int(1_500, 6_000);
        w.child.process.kill('SIGSTOP');
        journal.note(`SIGSTOP worker ${w.name} for ${stopMs} ms`);
        await sleep(stopMs);
        w.child.process.kill('SIGCONT');
        journal.note(`SIGCONT worker ${w.name}`);
        return;
      }
      case 'restart-nats': {
        const downMs = rng.int(200, 4_000);
        await this.nats.halt();
        journal.note(`nats-server stopped; back in ${downMs} ms`);
        await sleep(downMs);
        await this.nats.resume();
        journal.note('nats-server up (same port and store)');
        return;
      }
    }
  }

  /** Injects faults of the given kinds until `until` (a time): every len(faults) faults are each kind once, in a random order. */
  async loop(faults: readonly Fault[], until: number): Promise<void> {
    let bag: Fault[] = [];
    await sleep(this.rng.int(2_000, 5_000));
    while (Date.now() < until) {
      if (!bag.length) bag = this.rng.shuffle(faults);
      await this.inject(bag.pop()!);
      await sleep(this.rng.int(3_000, 9_000));
    }
  }
}
