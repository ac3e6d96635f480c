/**
 * `npm run -s bench -- elastic [--json] [--only single,three,queue,long] [--profile h100-video] [--seed 5]`
 *
 * The elastic sampler (`sampler: { kind: 'auto' }`, coordinator/cluster/capacity.ts)
 * against sequential sampling on SIMULATED GPUs, the same way bench/cluster.ts
 * runs: every worker is a real `propeller worker --device sim:<profile>`
 * process (the reference model runs for real on the CPU, then the worker waits
 * out the profile's modelled GPU latency, worker/sim-profiles.ts); the
 * coordinator is the real one (`startCoordinator`, in this process, float16
 * wire); jobs go in through the real JobService (`JobClient`), latent output,
 * downloaded through Download. The seconds are those of modelled GPUs driven
 * by the real coordinator — a simulation of the GPUs, a measurement of
 * everything else.
 *
 * Scenarios (reference model `field-mixture`, DDIM, prompt the i-th class for
 * job i, seeds seed + i), each run with `sampler: sequential` and then
 * `sampler: auto` (no window: the coordinator's limit), on the same workers,
 * with the same seeds:
 *
 * - `single`: one 16-frame 128x128 job (latent 4x16x32x32: 1 window per step), DDIM-50, 16 workers;
 * - `three`:  one 32-frame 128x128 job (latent 4x32x32x32: 3 chunks), DDIM-50, 16 workers;
 * - `queue`:  8 single-window jobs (16 frames 128x128) submitted together, DDIM-50, 16 workers;
 * - `long`:   one 192-frame 256x256 job (latent 4x192x64x64: 23 chunks x 9 tiles = 207 windows), DDIM-4, 32 workers.
 *
 * Every run gets a fresh coordinator with maxConcurrentJobs 8 (all 8 queue
 * jobs run at once; the others have one job) and progress events every
 * 50 ms at most (a round takes >= 310 ms, so the Watch stream sees every
 * round's window). Workers are started once, as many as the largest selected
 * scenario needs; the 16-worker scenarios use the first 16 of them.
 *
 * Columns: seconds (submit of the first job to SUCCEEDED of the last, seen on
 * the Watch streams); meanJobSeconds (mean over jobs of submit -> SUCCEEDED);
 * evals (sum of the jobs' `evaluations` metric: window evaluations, speculative
 * ones included); rounds (mean over jobs of `picard_rounds`, or the steps when
 * the job ran the sequential engine); windows (auto: the distinct picardWindow
 * values seen in the Watch progress events, in order of first appearance);
 * meanWindow (picard_points / picard_rounds, mean over jobs); relL2 (the final
 * latent against the sequential run's with the same seed, mean over jobs);
 * nll / nllSequential (mean per-window negative log-likelihood per element
 * under field-mixture's known prior at the scheduler's final noise level, as
 * bench/picard.ts computes it, on the downloaded latents; mean over jobs);
 * meanBatch (items per Evaluate call) and gpuBusy (modelled GPU busy time
 * over workers x seconds), from bench/dispatch-probe.ts; coordCpuPerRoundMs
 * (this process's CPU time — the coordinator plus the bench's Watch clients —
 * from the first submit to the last SUCCEEDED, over the rounds of all jobs);
 * allIdlePerRoundMs (time no Evaluate call was in flight at all, over the
 * mean rounds: the coordinator's critical path); hostCores (CPU of this
 * process and all worker processes, from /proc, over the seconds: cores busy
 * on average — this 2-core machine's own load behind the simulation). `--progress-ms` sets the
 * coordinator's progress interval (default 50). PROPELLER_BENCH_TIMELINE=DIR
 * writes every Evaluate call of every run there, as bench/cluster.ts does.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../common/logger.ts';
import { modelManifestSchema, type DenoiserManifest } from '../common/manifest.ts';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import type { Job__Output } from '../common/proto/generated/propeller/v1/Job.ts';
import { JobClient, TERMINAL } from '../cli/job-client.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { extractWindow, planWindows, type LatentDims, type Window } from '../coordinator/layout/mod.ts';
import { createScheduler } from '../coordinator/sampling/registry.ts';
import type { Scheduler } from '../coordinator/sampling/mod.ts';
import { promptToClassWeights } from '../coordinator/jobs/prompts.ts';
import { readLatent } from '../coordinator/video/latent-file.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import { FieldMixtureReference } from '../models/field-mixture/reference.ts';
import { describeSimProfile, simProfileOf, type SimProfile } from '../worker/sim-profiles.ts';
import { attachDispatchProbe } from './dispatch-probe.ts';
import { startSimWorkers, type SimWorkers } from './sim-workers.ts';
import { printTable, round } from './table.ts';
import { relL2 } from '../common/rel-l2.ts';
import { summary, type ElasticRow, type Sampler } from './elastic-targets.ts';
import { parseBenchArgs } from './bench-args.ts';

const MODEL = 'field-mixture';
/** Every run's coordinator: the 8 queue jobs run at once. */
const MAX_CONCURRENT_JOBS = 8;

interface Scenario {
  name: string;
  workers: number;
  frames: number;
  size: number;
  steps: number;
  jobs: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'single', workers: 16, frames: 16, size: 128, steps: 50, jobs: 1 },
  { name: 'three', workers: 16, frames: 32, size: 128, steps: 50, jobs: 1 },
  { name: 'queue', workers: 16, frames: 16, size: 128, steps: 50, jobs: 8 },
  { name: 'long', workers: 32, frames: 192, size: 256, steps: 4, jobs: 1 },
];

/** What the bench keeps of one job. */
interface JobResult {
  seconds: number;
  evals: number;
  rounds: number;
  points: number;
  windows: number[];
  latent: Float32Array;
  nll: number;
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { only: undefined, profile: 'h100-video', seed: '5', 'progress-ms': '50' });
  const wanted = values.only ? String(values.only).split(',').map((s) => s.trim()).filter(Boolean) : SCENARIOS.map((s) => s.name);
  for (const w of wanted) if (!SCENARIOS.some((s) => s.name === w)) throw new Error(`--only: unknown scenario "${w}" (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name));
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${values.seed}`);
  const progressMs = Number(values['progress-ms']);
  if (!Number.isInteger(progressMs) || progressMs < 0) throw new Error(`--progress-ms must be a non-negative integer, got ${values['progress-ms']}`);
  const profile = simProfileOf(`sim:${values.profile}`);
  const say = (line: string) => process.stderr.write(line + '\n');
  const modelDir = await ensureReferenceModels();
  const manifest = modelManifestSchema.parse(JSON.parse(readFileSync(join(modelDir, MODEL, 'manifest.json'), 'utf8'))) as DenoiserManifest;
  const ref = new FieldMixtureReference();
  const count = Math.max(...scenarios.map((s) => s.workers));
  say(`SIMULATED GPUs: ${describeSimProfile(profile)}`);
  say(`starting ${count} simulated worker processes (one intra-op thread each) on ${cpus().length} cores...`);
  const workers = await startSimWorkers({ count, profile: profile.name, modelDir, maxBatch: 16 });
  const dataDir = await mkdtemp(join(tmpdir(), 'propeller-bench-elastic-'));
  const rows: ElasticRow[] = [];
  try {
    // Warm every worker (JIT, first ORT runs): one step of the long video spreads 207 windows over all of them.
    say('warm-up job on all workers...');
    await runScenario(workers, profile, manifest, ref, { name: 'warm-up', workers: count, frames: 192, size: 256, steps: 1, jobs: 1 }, 'sequential', seed, dataDir, progressMs);
    for (const sc of scenarios) {
      let sequential: JobResult[] | undefined;
      for (const sampler of ['sequential', 'auto'] as const) {
        const r = await runScenario(workers, profile, manifest, ref, sc, sampler, seed, dataDir, progressMs);
        sequential ??= r.jobs;
        const mean = (f: (j: JobResult, i: number) => number) => r.jobs.reduce((a, j, i) => a + f(j, i), 0) / r.jobs.length;
        const seen: number[] = [];
        for (const j of r.jobs) for (const w of j.windows) if (!seen.includes(w)) seen.push(w);
        const totalRounds = r.jobs.reduce((a, j) => a + j.rounds, 0);
        const row: ElasticRow = {
          scenario: sc.name,
          workers: sc.workers,
          jobs: sc.jobs,
          sampler,
          seconds: round(r.seconds, 2),
          meanJobSeconds: round(mean((j) => j.seconds), 2),
          evals: r.jobs.reduce((a, j) => a + j.evals, 0),
          rounds: round(mean((j) => j.rounds), 2),
          windows: sampler === 'auto' ? (seen.length ? seen.join('/') : '-') : '-',
          meanWindow: sampler === 'auto' ? round(mean((j) => (j.points ? j.points / j.rounds : 1)), 2) : 1,
          relL2: sampler === 'sequential' ? 0 : round(mean((j, i) => relL2(j.latent, sequential![i]!.latent)), 5),
          nll: round(mean((j) => j.nll), 4),
          nllSequential: round(mean((_, i) => sequential![i]!.nll), 4),
          meanBatch: round(r.items / r.calls, 2),
          gpuBusy: round(r.modelledSeconds / (sc.workers * r.seconds), 3),
          allIdlePerRoundMs: round((r.allIdleSeconds * 1000) / mean((j) => j.rounds), 1),
          coordCpuPerRoundMs: round((r.coordCpu * 1000) / totalRounds, 1),
          hostCores: round((r.coordCpu + r.workerCpu) / r.seconds, 2),
        };
        rows.push(row);
        if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
        else say(`${sc.name} ${sampler}: ${row.seconds} s (mean job ${row.meanJobSeconds} s), ${row.rounds} rounds, windows ${row.windows}, nll ${row.nll}`);
      }
    }
  } finally {
    await workers.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  if (workers.problems.length) say(`worker warnings:\n${workers.problems.slice(0, 20).join('\n')}`);
  const lines = summary(rows);
  if (values.json) {
    for (const s of lines.verdicts) process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  process.stdout.write(
    `SIMULATED GPUs (${describeSimProfile(profile)}); real coordinator (maxConcurrentJobs ${MAX_CONCURRENT_JOBS}) and gRPC dispatcher, float16 wire; ` +
      `${MODEL}, DDIM, latent output; auto = sampler { kind: 'auto' } (window limit: the coordinator's maxWindow)\n`,
  );
  printTable(rows as unknown as Record<string, unknown>[]);
  process.stdout.write(lines.text.join('\n') + '\n');
}

/** What one run of a scenario measured. */
interface ScenarioRun {
  seconds: number;
  jobs: JobResult[];
  coordCpu: number;
  workerCpu: number;
  calls: number;
  items: number;
  modelledSeconds: number;
  allIdleSeconds: number;
}

/** Runs a scenario's jobs with one sampler on a fresh coordinator over the first `sc.workers` workers. */
async function runScenario(workers: SimWorkers, profile: SimProfile, m: DenoiserManifest, ref: FieldMixtureReference, sc: Scenario, sampler: Sampler, seed: number, dataDir: string, progressMs: number): Promise<ScenarioRun> {
  // A data directory of its own: a fresh coordinator, no outputs of an earlier run.
  const runDir = await mkdtemp(join(dataDir, `${sc.name}-${sampler}-`));
  const coordinator = await startCoordinator(
    { listen: '127.0.0.1:0', workers: workers.addresses.slice(0, sc.workers), dataDir: runDir, maxConcurrentJobs: MAX_CONCURRENT_JOBS, progressIntervalMs: progressMs },
    createLogger('coordinator', { level: 'warn' }),
  );
  const client = new JobClient(coordinator.address);
  try {
    const serving = coordinator.registry.serving(MODEL).length;
    if (serving !== sc.workers) throw new Error(`${serving} of ${sc.workers} workers serve ${MODEL}`);
    const specs: JobSpec[] = Array.from({ length: sc.jobs }, (_, i) => ({
      model: MODEL,
      prompt: m.classes[i % m.classes.length]!,
      frames: sc.frames,
      height: sc.size,
      width: sc.size,
      steps: sc.steps,
      scheduler: 'ddim',
      seed: seed + i,
      sampler: { kind: sampler },
      output: { format: 'latent' },
    }));
    const probe = attachDispatchProbe(coordinator.registry, profile);
    const cpu0 = process.cpuUsage();
    const workerCpu0 = workers.cpuSeconds();
    const t0 = performance.now();
    probe.start();
    const watched = await Promise.all(
      specs.map(async (spec) => {
        const submittedAt = performance.now();
        const job = await client.submit(spec);
        const windows: number[] = [];
        let endedAt = NaN;
        const last = await client.watch(job.id, (e) => {
          const w = e.job?.progress?.picardWindow ?? 0;
          if (w > 0 && windows.at(-1) !== w) windows.push(w);
          if (e.job && TERMINAL.has(e.job.state) && Number.isNaN(endedAt)) endedAt = performance.now();
        });
        if (Number.isNaN(endedAt)) endedAt = performance.now();
        return { job: last, submittedAt, endedAt, windows };
      }),
    );
    const end = Math.max(...watched.map((w) => w.endedAt));
    const cpu = process.cpuUsage(cpu0);
    const workerCpu = workers.cpuSeconds() - workerCpu0;
    const stats = probe.read();
    // Diagnostics: PROPELLER_BENCH_TIMELINE=<dir> writes every Evaluate call (worker, items, timestep, start, end) per run.
    if (process.env['PROPELLER_BENCH_TIMELINE']) {
      await writeFile(join(process.env['PROPELLER_BENCH_TIMELINE'], `elastic-${sc.name}-${sampler}.json`), JSON.stringify({ t0, jobs: watched.map((w) => ({ submittedAt: w.submittedAt, endedAt: w.endedAt, windows: w.windows })), timeline: stats.timeline }));
    }
    const jobs: JobResult[] = [];
    for (const [i, w] of watched.entries()) {
      const job: Job__Output = w.job;
      if (job.state !== 'SUCCEEDED') throw new Error(`${sc.name} ${sampler} job ${i}: ended ${job.state}: ${job.error}`);
      const path = join(runDir, `${job.id}.latent`);
      await client.download(job.id, path);
      const { shape, data } = readLatent(await readFile(path));
      await rm(path, { force: true });
      const dims: LatentDims = { channels: shape[0]!, frames: shape[1]!, height: shape[2]!, width: shape[3]! };
      const rounds = job.metrics['picard_rounds'] ?? sc.steps;
      jobs.push({
        seconds: (w.endedAt - w.submittedAt) / 1000,
        evals: job.metrics['evaluations'] ?? NaN,
        rounds,
        points: job.metrics['picard_points'] ?? 0,
        windows: w.windows,
        latent: data,
        nll: windowNll(ref, data, dims, m, promptToClassWeights(specs[i]!.prompt!, m.classes, 'prompt'), sc.steps),
      });
    }
    return { seconds: (end - t0) / 1000, jobs, coordCpu: (cpu.user + cpu.system) / 1e6, workerCpu, calls: stats.calls, items: stats.items, modelledSeconds: stats.modelledSeconds, allIdleSeconds: stats.allIdleSeconds };
  } finally {
    client.close();
    await coordinator.close();
    await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * Mean per-element NLL over the job's layout windows (the coordinator's
 * default overlaps: 8 latent frames, 16 latent pixels) under the prompt's
 * prior, at the DDIM schedule's final noise level — bench/picard.ts's measure.
 */
function windowNll(ref: FieldMixtureReference, latent: Float32Array, dims: LatentDims, m: DenoiserManifest, cw: Float32Array, steps: number): number {
  const windows: Window[] = planWindows(
    dims,
    { frames: m.nativeFrames, height: m.nativeHeight, width: m.nativeWidth },
    { frames: Math.min(8, m.nativeFrames - 1), height: Math.min(16, m.nativeHeight - 1), width: Math.min(16, m.nativeHeight - 1) },
  );
  const s: Scheduler = createScheduler('ddim', { trainSchedule: m.trainSchedule, predictionType: m.predictionType }, steps);
  const { alpha, sigma } = s.noiseLevel(s.numSteps);
  let sum = 0;
  for (const w of windows) sum += ref.meanNll(extractWindow(latent, dims, w), cw, alpha, sigma);
  return sum / windows.length;
}

