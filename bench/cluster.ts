/**
 * `npm run -s bench -- cluster [--json] [--workers 1,2,4,8,16,32] [--profile h100-video]
 *   [--frames 192] [--size 256] [--steps 4] [--modes sequential,picard] [--window 8] [--tol 0.1]`
 *
 * Scaling over SIMULATED GPUs. Each worker is a real `propeller worker
 * --device sim:<profile>` process: it runs the reference model for real on
 * the CPU, then waits out the profile's modelled GPU latency (fixed + per
 * item, one batch at a time; worker/sim-profiles.ts). The coordinator is the
 * real one (`startCoordinator`, in this process) with its real gRPC
 * dispatcher, float16 wire; jobs go in through the real JobService. The
 * seconds are therefore those of a cluster of modelled GPUs driven by the
 * real coordinator — a simulation of the GPUs, a measurement of everything
 * else.
 *
 * Workload: a long video, by default 192 frames at 256x256 (latent
 * 4x192x64x64: 23 chunks x 9 tiles = 207 windows per step, 6.5 per worker
 * at 32 workers, so one round is one batch of 7 on every GPU), 4 DDIM
 * steps, latent output (no decode/encode). With h100-video one worker takes
 * about 4 minutes per mode (207 x 4 x 290 ms); the whole bench about 25.
 * Two modes: sequential + chunks, and Picard + chunks (window 8, forecast
 * policy, tolerance 0.1), each at every worker count.
 *
 * Columns: seconds (submit to SUCCEEDED); speedup = seconds(1 worker, same
 * mode) / seconds; efficiency = speedup / workers; overheadPerRoundMs, the
 * coordinator's MEASURED busy time per round: event-loop active time of this
 * process (`performance.eventLoopUtilization`) over the job, divided by the
 * rounds (steps for sequential, Picard rounds for Picard). This process runs
 * only the coordinator and the bench's job client, so that is the time the
 * coordinator spent not waiting for workers: window extraction, merging,
 * scheduler steps, Picard bookkeeping, float16 encode/decode, protobuf and
 * grpc-js. wireBytesPerEval: latent bytes sent plus received by the
 * dispatcher per model evaluation. To see where time goes, each coordinator's
 * worker clients are watched from outside (bench/dispatch-probe.ts):
 * meanBatch (items per Evaluate call), gpuBusy (the simulated GPUs' modelled
 * busy time over workers x seconds) and allIdlePerRoundMs (time with no call
 * in flight at all: every GPU waiting on the coordinator). Also: rounds, evals, coordCpuPerRoundMs
 * (the coordinator process's CPU time per round: the busy time above counts
 * wall time, which grows when other processes take the CPU; CPU time does
 * not), and hostCores, the CPU the coordinator and all worker processes
 * (from /proc) used together, in cores busy on average over the job — so
 * "this machine's own compute is negligible" is checked, not assumed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../common/logger.ts';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import { JobClient } from '../cli/job-client.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import { describeSimProfile, simProfileOf, type SimProfile } from '../worker/sim-profiles.ts';
import { attachDispatchProbe, type DispatchStats } from './dispatch-probe.ts';
import { startSimWorkers, type SimWorkers } from './sim-workers.ts';
import { printTable, round } from './table.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';

/** Acceptance targets for sequential + chunks: efficiency at these worker counts. */
export const EFFICIENCY_TARGETS: ReadonlyArray<{ workers: number; efficiency: number }> = [
  { workers: 8, efficiency: 0.85 },
  { workers: 32, efficiency: 0.7 },
];

type Mode = 'sequential' | 'picard';

/** A bench row. */
export interface ClusterRow {
  mode: string;
  workers: number;
  seconds: number;
  speedup: number;
  efficiency: number;
  overheadPerRoundMs: number;
  wireBytesPerEval: number;
  rounds: number;
  evals: number;
  meanBatch: number;
  gpuBusy: number;
  allIdlePerRoundMs: number;
  coordCpuPerRoundMs: number;
  hostCores: number;
}

interface Settings {
  frames: number;
  size: number;
  steps: number;
  window: number;
  tol: number;
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { workers: '1,2,4,8,16,32', profile: 'h100-video', frames: '192', size: '256', steps: '4', modes: 'sequential,picard', window: '8', tol: '0.1' });
  const counts = [...new Set(String(values.workers).split(',').map((v) => positiveInt('workers', v)))].sort((a, b) => a - b);
  const modes = String(values.modes).split(',') as Mode[];
  for (const m of modes) if (m !== 'sequential' && m !== 'picard') throw new Error(`--modes: unknown mode "${m}" (known: sequential, picard)`);
  const profile = simProfileOf(`sim:${values.profile}`);
  const settings: Settings = {
    frames: positiveInt('frames', values.frames),
    size: positiveInt('size', values.size),
    steps: positiveInt('steps', values.steps),
    window: positiveInt('window', values.window),
    tol: Number(values.tol),
  };
  const say = (line: string) => process.stderr.write(line + '\n');
  say(`SIMULATED GPUs: ${describeSimProfile(profile)}`);
  say(`starting ${counts.at(-1)} simulated worker processes (one intra-op thread each) on ${cpus().length} cores...`);
  const workers = await startSimWorkers({ count: counts.at(-1)!, profile: profile.name, modelDir: await ensureReferenceModels(), maxBatch: 16 });
  const dataDir = await mkdtemp(join(tmpdir(), 'propeller-bench-cluster-'));
  const rows: ClusterRow[] = [];
  try {
    // Warm every worker (JIT, first ORT runs) so the first measured run is not the slowest for that reason.
    say('warm-up job on all workers...');
    await runJob(workers, profile, workers.addresses.length, 'sequential', { ...settings, steps: 2 }, dataDir);
    for (const mode of modes) {
      let base: number | undefined;
      for (const w of counts) {
        const r = await runJob(workers, profile, w, mode, settings, dataDir);
        base ??= w === 1 ? r.seconds : undefined;
        const speedup = base !== undefined ? base / r.seconds : NaN;
        const row: ClusterRow = {
          mode: `${mode}+chunks`,
          workers: w,
          seconds: round(r.seconds, 2),
          speedup: round(speedup, 2),
          efficiency: round(speedup / w, 3),
          overheadPerRoundMs: round(r.busyMs / r.rounds, 1),
          wireBytesPerEval: Math.round(r.wireBytes / r.evals),
          rounds: r.rounds,
          evals: r.evals,
          meanBatch: round(r.probe.items / r.probe.calls, 2),
          gpuBusy: round(r.probe.modelledSeconds / (w * r.seconds), 3),
          allIdlePerRoundMs: round((r.probe.allIdleSeconds * 1000) / r.rounds, 1),
          coordCpuPerRoundMs: round((r.coordCpu * 1000) / r.rounds, 1),
          hostCores: round((r.coordCpu + r.workerCpu) / r.seconds, 2),
        };
        rows.push(row);
        if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
        else say(`${row.mode} W=${w}: ${row.seconds} s, efficiency ${row.efficiency}, coordinator ${row.overheadPerRoundMs} ms/round`);
      }
    }
  } finally {
    await workers.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  if (workers.problems.length) say(`worker warnings:\n${workers.problems.slice(0, 20).join('\n')}`);
  const overruns = overrunTotals(workers.summaries);
  if (values.json) return;
  const latent = `4x${settings.frames}x${settings.size / 4}x${settings.size / 4}`;
  process.stdout.write(
    `SIMULATED GPUs (${describeSimProfile(profile)}); real coordinator and gRPC dispatcher, float16 wire; ` +
      `${settings.frames} frames at ${settings.size}x${settings.size} (latent ${latent}), ${settings.steps} DDIM steps; picard window ${settings.window}, forecast, tol ${settings.tol}\n`,
  );
  printTable(rows as unknown as Record<string, unknown>[]);
  process.stdout.write(summary(rows, cpus().length).join('\n') + '\n');
  process.stdout.write(
    `simulated-GPU overruns (real compute longer than the model, all runs; from ${workers.summaries.length} worker summaries): ` +
      `${overruns.overruns} of ${overruns.batches} batches, ${round(overruns.seconds, 3)} s in total\n`,
  );
}

/** Sums the workers' drain summaries: batches, and batches whose real compute exceeded the model. */
function overrunTotals(lines: readonly string[]): { batches: number; overruns: number; seconds: number } {
  const field = (line: string, key: string) => Number(new RegExp(`\\b${key}="?([\\d.]+)`).exec(line)?.[1] ?? NaN);
  const t = { batches: 0, overruns: 0, seconds: 0 };
  for (const line of lines) {
    t.batches += field(line, 'batches');
    t.overruns += field(line, 'overruns');
    t.seconds += field(line, 'overrunSeconds');
  }
  return t;
}

/** The lines under the table: Picard over sequential on one worker, and the efficiency targets. */
function summary(rows: readonly ClusterRow[], cores: number): string[] {
  const at = (mode: string, w: number) => rows.find((r) => r.mode === mode && r.workers === w);
  const lines = [
    'overheadPerRoundMs: event-loop busy time of the coordinator process during the job / rounds (measured, performance.eventLoopUtilization).',
    'meanBatch: items per Evaluate call. gpuBusy: the simulated GPUs\' modelled busy time (sum over calls of fixed + perItem * batch) / (workers * seconds).',
    'allIdlePerRoundMs: time no Evaluate call was in flight at all (every GPU idle: the coordinator\'s critical path, setup and tail included) / rounds.',
    'coordCpuPerRoundMs: CPU time of the coordinator process (all its threads, process.cpuUsage) / rounds: unlike the busy time, not inflated when other processes take the CPU.',
    `hostCores: CPU the coordinator and all simulated worker processes used together, in cores busy on average over the job (this machine has ${cores}): the real work behind the simulation.`,
  ];
  const seq1 = at('sequential+chunks', 1);
  const pic1 = at('picard+chunks', 1);
  if (seq1 && pic1) lines.push(`picard+chunks over sequential+chunks on one worker: ${round(seq1.seconds / pic1.seconds, 2)}x`);
  for (const w of [...new Set(rows.map((r) => r.workers))]) {
    const s = at('sequential+chunks', w);
    const p = at('picard+chunks', w);
    if (s && p && w !== 1) lines.push(`picard+chunks over sequential+chunks at ${w} workers: ${round(s.seconds / p.seconds, 2)}x`);
  }
  const hostBound = rows.filter((r) => r.hostCores > cores / 2);
  if (hostBound.length) {
    lines.push(
      `HOST-BOUND: ${hostBound.map((r) => `${r.mode} W=${r.workers}`).join(', ')} used more than half of this machine's ${cores} cores ` +
        '(coordinator + worker processes): there the real CPU, not the simulated GPUs, limits the speed.',
    );
  }
  for (const t of EFFICIENCY_TARGETS) {
    const r = at('sequential+chunks', t.workers);
    if (r) lines.push(`sequential+chunks efficiency at ${t.workers} workers: ${r.efficiency} (target >= ${t.efficiency}: ${r.efficiency >= t.efficiency ? 'met' : 'NOT met'})`);
  }
  return lines;
}

/** What one job run measured. */
interface JobRun {
  seconds: number;
  busyMs: number;
  rounds: number;
  evals: number;
  wireBytes: number;
  coordCpu: number;
  workerCpu: number;
  probe: DispatchStats;
}

/** Runs one job on a fresh coordinator over the first `count` workers. */
async function runJob(workers: SimWorkers, profile: SimProfile, count: number, mode: Mode, s: Settings, dataDir: string): Promise<JobRun> {
  const coordinator = await startCoordinator(
    { listen: '127.0.0.1:0', workers: workers.addresses.slice(0, count), dataDir, maxConcurrentJobs: 1, progressIntervalMs: 500 },
    createLogger('coordinator', { level: 'warn' }),
  );
  const client = new JobClient(coordinator.address);
  try {
    const serving = coordinator.registry.serving('field-mixture').length;
    if (serving !== count) throw new Error(`${serving} of ${count} workers serve field-mixture`);
    const spec: JobSpec = {
      model: 'field-mixture',
      prompt: 'clouds',
      frames: s.frames,
      height: s.size,
      width: s.size,
      steps: s.steps,
      seed: 5,
      sampler: mode === 'picard' ? { kind: 'picard', window: s.window, tolerance: s.tol, policy: 'forecast' } : { kind: 'sequential' },
      output: { format: 'latent' },
    };
    const probe = attachDispatchProbe(coordinator.registry, profile);
    const wire0 = { ...coordinator.dispatcher.wire };
    const cpu0 = process.cpuUsage();
    const workerCpu0 = workers.cpuSeconds();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    probe.start();
    const submitted = await client.submit(spec);
    const job = await client.watch(submitted.id, () => undefined);
    const seconds = (performance.now() - t0) / 1000;
    const stats = probe.read();
    // Diagnostics: PROPELLER_BENCH_TIMELINE=<dir> writes every Evaluate call (worker, items, start, end) per run.
    if (process.env['PROPELLER_BENCH_TIMELINE']) {
      await writeFile(join(process.env['PROPELLER_BENCH_TIMELINE'], `timeline-${mode}-${count}.json`), JSON.stringify({ t0, timeline: stats.timeline }));
    }
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const workerCpu = workers.cpuSeconds() - workerCpu0;
    if (job.state !== 'SUCCEEDED') throw new Error(`${mode} on ${count} workers: job ended ${job.state}: ${job.error}`);
    const wire = coordinator.dispatcher.wire;
    const evals = job.metrics['evaluations'] ?? NaN;
    const rounds = mode === 'picard' ? (job.metrics['picard_rounds'] ?? NaN) : s.steps;
    return {
      seconds,
      busyMs: elu.active,
      rounds,
      evals,
      wireBytes: wire.sentBytes - wire0.sentBytes + wire.receivedBytes - wire0.receivedBytes,
      coordCpu: (cpu.user + cpu.system) / 1e6,
      workerCpu,
      probe: stats,
    };
  } finally {
    client.close();
    await coordinator.close();
  }
}

