import { writeFileSync } from 'node:fs';
import type { ChildServer } from '../../cli/worker-process.ts';
import { exited, type ProcessCluster } from './cluster.ts';

/**
 * The soak test's record of what happened: a timeline (time since the start
 * of faults, and what happened), the anomalies seen on the way (a process
 * that exited on its own, a Submit answered with a code that is not retried),
 * and the log file that holds both with every process's log.
 */
export class SoakJournal {
  /** A line of the report: time since the start of faults, and what happened. */
  readonly timeline: string[] = [];
  /** The same entries with their times, to name the faults just before a job went wrong. */
  readonly timed: { at: number; entry: string }[] = [];
  readonly anomalies: string[] = [];
  /** Processes the test killed or stopped on purpose: any other exit is a crash. */
  private readonly expectedExit = new Set<ChildServer>();
  private t0 = Date.now();

  /** @param stopping true once the test tears the cluster down (exits are expected then). */
  constructor(
    private readonly cluster: ProcessCluster,
    private readonly stopping: () => boolean,
  ) {}

  /** Times the timeline from now on. */
  startClock(): number {
    this.t0 = Date.now();
    return this.t0;
  }

  note(line: string): void {
    const entry = `+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${line}`;
    this.timeline.push(entry);
    this.timed.push({ at: Date.now(), entry });
    if (process.env.PROPELLER_TEST_SHOW_LOGS === '1') process.stderr.write(`[soak] ${entry}\n`);
  }

  /** Counts an exit of `child` as an anomaly unless `expectExit(child)` came first. */
  watchExit(child: ChildServer, name: string): void {
    void exited(child).then(({ code, signal }) => {
      if (this.stopping() || this.expectedExit.has(child)) return;
      this.anomalies.push(`${name} exited on its own (code ${code}, signal ${signal}); last log lines:\n  ${this.cluster.log(name).slice(-15).join('\n  ')}`);
      this.note(`UNEXPECTED EXIT of ${name} (code ${code}, signal ${signal})`);
    });
  }

  expectExit(child: ChildServer): void {
    this.expectedExit.add(child);
  }

  /** Writes the header, timeline, anomalies, `extra` and every process's log (and nats-server's) to `file`. */
  writeFile(file: string, header: string, natsLog: string | undefined, extra: string[] = []): void {
    const parts = [header, '', '== timeline', ...this.timeline, '', '== anomalies', ...this.anomalies, '', ...extra];
    for (const [name, lines] of this.cluster.logs) parts.push('', `== ${name}`, ...lines);
    if (natsLog !== undefined) parts.push('', '== nats-server', natsLog);
    writeFileSync(file, parts.join('\n'));
  }
}
