/**
 * Simulated-GPU worker processes for the scaling bench: N real `propeller
 * worker --device sim:<profile>` processes on loopback (one intra-op thread
 * each, so 32 of them share two cores without fighting over thread pools),
 * and the CPU time they use, read from /proc.
 */
import { readFileSync } from 'node:fs';
import { spawnCliServer, type ChildServer } from '../cli/worker-process.ts';

/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A set of running simulated workers. */
export interface SimWorkers {
  readonly addresses: readonly string[];
  /** Lines the workers logged at warn or above, other than the simulation banner. */
  readonly problems: string[];
  /** Each worker's simulated-device summary line, logged when it drains (after `stop`). */
  readonly summaries: string[];
  /** CPU seconds (user + system) all worker processes have used so far; NaN off Linux. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Starts `count` workers with `--device sim:<profile>`, all at once, and
 * waits until each announced its address. Their start-up banner (the
 * "SIMULATED DEVICE" warning, one per worker) is swallowed: the bench prints
 * the profile once; any other warning or error is kept in `problems`, and
 * the summary each logs when it drains in `summaries`.
 */
export async function startSimWorkers(opts: { count: number; profile: string; modelDir: string; maxBatch: number }): Promise<SimWorkers> {
  const problems: string[] = [];
  const summaries: string[] = [];
  const started = await Promise.allSettled(
    Array.from({ length: opts.count }, (_, i) =>
      spawnCliServer(
        ['worker', '--listen', '127.0.0.1:0', '--models', opts.modelDir, '--threads', '1', '--max-batch', String(opts.maxBatch), '--device', `sim:${opts.profile}`, '--id', `sim-${i}`],
        {
          env: { PROPELLER_LOG_LEVEL: 'info' },
          stderr: (line) => {
            if (line.includes('SIMULATED DEVICE')) return;
            if (line.includes('summary') && line.includes('overruns=')) summaries.push(line);
            else if (/ (WARN|ERROR) /.test(line)) problems.push(`[sim-${i}] ${line}`);
          },
          startTimeoutMs: 60_000 + 3_000 * opts.count,
        },
      ),
    ),
  );
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
  };
  if (failed) {
    await stop();
    throw new Error(`a simulated worker failed to start: ${String(failed.reason)}${problems.length ? `\n${problems.join('\n')}` : ''}`);
  }
  return {
    addresses: workers.map((w) => w.address),
    problems,
    summaries,
    cpuSeconds: () => workers.reduce((sum, w) => sum + processCpuSeconds(w), 0),
    stop,
  };
}

/** CPU seconds of one child process from /proc/<pid>/stat (utime + stime); NaN when unreadable. */
function processCpuSeconds(w: ChildServer): number {
  try {
    const stat = readFileSync(`/proc/${w.process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
