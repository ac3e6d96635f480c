/**
 * `npm run -s bench -- picard-round [--json] [--workers 16] [--window 16] [--steps 50] [--jobs 4]
 *   [--latency-ms 20] [--interval-us 200] [--cpuprofile out.cpuprofile]`
 *
 * The coordinator's own CPU time per Picard round, and where it goes. The
 * real engine (`samplePicard`, forecast policy, tolerance 0.1), the real
 * composite denoiser (one native window: a 16-frame 128x128 job, latent
 * 4x16x32x32) and the real dispatcher (float16 wire, two batches in flight
 * per worker) run against in-process fake workers that answer after
 * `--latency-ms` with their request's own sample tensors as outputs (an
 * epsilon prediction `eps = x`: no model compute, no protobuf, no grpc-js).
 * So everything measured is the coordinator's side above the transport:
 * window extraction, the float16 encode and decode, the merge, the
 * scheduler step, the Picard drifts and error norms, the window bookkeeping,
 * the dispatcher's bookkeeping and the garbage collector. grpc-js and
 * protobuf are not in it (see `bench overhead` for them).
 *
 * One warm-up job, then `--jobs` measured jobs of DDIM-`--steps` with
 * window `--window` over `--workers` fake workers (one item each per round).
 * Reported per round of `--window` evaluations (rounds with a shorter window
 * at the end of the schedule are left out of the per-round CPU):
 *
 * - cpuMsPerRound: process CPU time (process.cpuUsage, all threads) between
 *   two rounds' ends, mean over the full-window rounds;
 * - gcMsPerRound: main-thread GC pauses (PerformanceObserver 'gc');
 * - per phase: self time of a V8 CPU profile of the measured jobs (sampling
 *   every `--interval-us`), each function's samples assigned to a phase by
 *   its file and name (builtins and runtime calls to the caller's phase),
 *   scaled to ms per full round (the profile's total self time over the
 *   evaluations, times the window).
 */
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { createLogger } from '../common/logger.ts';
import type { EvaluateRequest } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { EvaluateResponse__Output } from '../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { Tensor__Output } from '../common/proto/generated/propeller/v1/Tensor.ts';
import { Dispatcher } from '../coordinator/cluster/dispatcher.ts';
import type { WorkerCalls } from '../coordinator/cluster/worker-client.ts';
import { WorkerRegistry } from '../coordinator/cluster/worker-registry.ts';
import { CompositeDenoiser, initialNoise, planWindows, type WindowWork } from '../coordinator/layout/mod.ts';
import { classWeightsConditioning } from '../coordinator/conditioning/class-weights.ts';
import { stepNoise } from '../coordinator/sampling/mod.ts';
import { samplePicard } from '../coordinator/sampling/picard.ts';
import { createPicardPolicy } from '../coordinator/sampling/picard-policy.ts';
import { createScheduler } from '../coordinator/sampling/registry.ts';
import { fieldMixtureManifest } from '../models/field-mixture/build.ts';
import { printTable, round } from './table.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';

const MODEL = 'field-mixture';

/** A worker in this process: answers after `latencyMs` with the request's samples (eps = x). */
class EchoWorker implements WorkerCalls {
  constructor(
    readonly address: string,
    private readonly latencyMs: number,
    private readonly manifestJson: string,
  ) {}

  async info(): Promise<InfoResponse__Output> {
    return {
      workerId: this.address,
      device: 'echo',
      version: 'bench',
      maxBatch: 16,
      capacity: 1,
      maxMessageBytes: 64 << 20,
      confirmsReceipt: true,
      models: [{ name: MODEL, kind: 'MODEL_KIND_DENOISER', manifestJson: this.manifestJson, available: true, reason: '' }],
    };
  }

  async evaluate(req: EvaluateRequest, _timeoutMs: number, _signal?: AbortSignal, onReceived?: () => void): Promise<EvaluateResponse__Output> {
    queueMicrotask(() => onReceived?.());
    await new Promise((r) => setTimeout(r, this.latencyMs));
    return { computeSeconds: 0, outputs: (req.items ?? []).map((it) => it.sample as Tensor__Output) };
  }

  decode(): never {
    throw new Error('not used');
  }

  encode(): never {
    throw new Error('not used');
  }

  close(): void {}
}

/** Phases, in report order; each profile sample goes to the first rule its file and function match. */
const PHASES: ReadonlyArray<{ phase: string; file?: RegExp; fn?: RegExp }> = [
  { phase: 'gc', fn: /^\(garbage collector\)$/ },
  // Drift sums and error norms, one fused pass since 2026-11 (before, inline in samplePicard: `picardEngine`).
  { phase: 'picardDriftsAndNorms', file: /^picard\.ts$/, fn: /^(advanceAndMeasure|squaredDistance)$/ },
  // The rest of the engine: window bookkeeping, entering points (copies, forecasts), the policy.
  { phase: 'picardEngine', file: /^picard(-policy)?\.ts$/ },
  { phase: 'schedulerStep', file: /^(ddim|ddpm|euler|flow-euler|scheduler|prediction|step-noise|rng)\.ts$/ },
  { phase: 'codec', file: /^tensor-codec\.ts$/ },
  { phase: 'mergeAndExtract', file: /^(merge|composite-denoiser|blend)\.ts$/ },
  { phase: 'dispatcher', file: /^(dispatcher|eval-request|fair-share|stragglers|worker-registry)\.ts$/ },
  { phase: 'bench', file: /^picard-round\.ts$/ },
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by phase; functions of no phase go to their caller's phase, or to `other`. */
function phaseTimes(profile: Profile): { byPhase: Map<string, number>; byFunction: Map<string, number> } {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const phaseOfFrame = (n: ProfileNode): string | undefined => {
    const file = basename(n.callFrame.url || '').replace(/\?.*$/, '');
    const fn = n.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)' || fn === '(root)') return 'idle';
    for (const r of PHASES) {
      if (r.file && !r.file.test(file)) continue;
      if (r.fn && !r.fn.test(fn)) continue;
      return r.phase;
    }
    return undefined;
  };
  const cache = new Map<number, string>();
  const phaseOf = (id: number): string => {
    const hit = cache.get(id);
    if (hit) return hit;
    let cur: number | undefined = id;
    let phase = 'other';
    while (cur !== undefined) {
      const n = byId.get(cur)!;
      const p = phaseOfFrame(n);
      // Our own files decide; node internals (no phase) and builtins go up to their caller.
      if (p) {
        phase = p;
        break;
      }
      cur = parent.get(cur);
    }
    cache.set(id, phase);
    return phase;
  };
  const byPhase = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const phase = phaseOf(id);
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + ms);
    const n = byId.get(id)!;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${basename(n.callFrame.url || '')}`;
    if (phase !== 'idle') byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  return { byPhase, byFunction };
}

interface Settings {
  workers: number;
  window: number;
  steps: number;
  latencyMs: number;
}

/** One Picard job; returns per-round CPU (ms) of the full-window rounds and the evaluations. */
async function runJob(dispatcher: Dispatcher, s: Settings, seed: number): Promise<{ roundCpuMs: number[]; evaluations: number; rounds: number }> {
  const m = fieldMixtureManifest();
  const dims = { channels: m.latentChannels, frames: 16, height: 32, width: 32 };
  const windows = planWindows(dims, { frames: m.nativeFrames, height: m.nativeHeight, width: m.nativeWidth }, { frames: 4, height: 8, width: 8 });
  const scheduler = createScheduler('ddim', { trainSchedule: m.trainSchedule, predictionType: m.predictionType, eta: 0 }, s.steps);
  const classWeights = new Float32Array(m.classes.length).fill(1 / m.classes.length);
  const composite = new CompositeDenoiser({
    dims,
    windows,
    blend: 'cosine',
    predictionType: m.predictionType,
    conditioningFor: () => classWeightsConditioning(m, classWeights),
    scheduler,
    evaluate: (items: WindowWork[], signal?: AbortSignal) => dispatcher.evaluate(MODEL, items, { jobId: `bench-${seed}`, signal }),
  });
  const initial = initialNoise('independent', dims, seed, { window: m.nativeFrames, overlap: 4 });
  for (let i = 0; i < initial.length; i++) initial[i]! *= scheduler.initNoiseSigma;
  const roundCpuMs: number[] = [];
  let last = process.cpuUsage();
  const result = await samplePicard({
    scheduler,
    denoise: composite.denoise,
    initial,
    noise: stepNoise(seed),
    window: s.window,
    policy: createPicardPolicy('forecast', 0.1),
    recycle: composite.recycle,
    onRound: (r) => {
      const now = process.cpuUsage();
      // The first round's CPU includes the job's setup; skip it.
      if (r.evaluations === s.window && r.round > 1) roundCpuMs.push((now.user - last.user + now.system - last.system) / 1000);
      last = now;
    },
  });
  if (windows.length !== 1) throw new Error(`expected one layout window, planned ${windows.length}`);
  return { roundCpuMs, evaluations: result.evaluations, rounds: result.rounds };
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { workers: '16', window: '16', steps: '50', jobs: '4', 'latency-ms': '20', 'interval-us': '200', cpuprofile: undefined });
  const s: Settings = {
    workers: positiveInt('workers', values.workers),
    window: positiveInt('window', values.window),
    steps: positiveInt('steps', values.steps),
    latencyMs: Number(values['latency-ms']),
  };
  const jobs = positiveInt('jobs', values.jobs);
  const log = createLogger('bench', { level: 'warn' });
  const manifestJson = JSON.stringify(fieldMixtureManifest());
  const registry = new WorkerRegistry({
    maxMessageBytes: 64 << 20,
    infoTimeoutMs: 5000,
    probeIntervalMs: 3_600_000,
    maxConsecutiveFailures: 3,
    log,
    connect: (address) => new EchoWorker(address, s.latencyMs, manifestJson),
  });
  await registry.add(Array.from({ length: s.workers }, (_, i) => `echo-${i}`));
  const dispatcher = new Dispatcher(registry, { wireDtype: 'float16', maxInFlightPerWorker: 2, batchTimeoutMs: 120_000, maxAttempts: 5, noWorkerTimeoutMs: 30_000, log });
  try {
    await runJob(dispatcher, s, 1); // warm-up: JIT
    let gcMs = 0;
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcMs += e.duration;
    });
    gc.observe({ entryTypes: ['gc'] });
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: positiveInt('interval-us', values['interval-us']) });
    await session.post('Profiler.start');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const roundCpu: number[] = [];
    let evaluations = 0;
    let rounds = 0;
    for (let j = 0; j < jobs; j++) {
      const r = await runJob(dispatcher, s, 10 + j);
      roundCpu.push(...r.roundCpuMs);
      evaluations += r.evaluations;
      rounds += r.rounds;
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    gc.disconnect();
    if (values.cpuprofile) await writeFile(values.cpuprofile, JSON.stringify(profile));
    const perRound = s.window / evaluations; // scales job totals to one full round
    const { byPhase, byFunction } = phaseTimes(profile);
    const sorted = [...roundCpu].sort((a, b) => a - b);
    const mean = roundCpu.reduce((a, b) => a + b, 0) / roundCpu.length;
    const row: Record<string, number> = {
      cpuMsPerRound: round(mean, 1),
      cpuMsPerRoundMedian: round(sorted[sorted.length >> 1]!, 1),
      cpuMsPerRoundJobAverage: round(((cpu.user + cpu.system) / 1000) * perRound, 1),
      gcPauseMsPerRound: round(gcMs * perRound, 1),
      fullRounds: roundCpu.length,
      rounds,
      evaluations,
      wallMsPerRound: round((wallMs * s.window) / evaluations, 1),
    };
    const phases: Record<string, number> = {};
    for (const p of [...PHASES.map((r) => r.phase), 'other']) phases[p] = round((byPhase.get(p) ?? 0) * perRound, 2);
    const profiled = [...byPhase].filter(([p]) => p !== 'idle').reduce((a, [, v]) => a + v, 0);
    phases['profiledTotal'] = round(profiled * perRound, 2);
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...s, ...row, phases }) + '\n');
      return;
    }
    process.stdout.write(
      `Picard round cost on the coordinator: DDIM-${s.steps}, window ${s.window}, latent 4x16x32x32 (one native window), ${s.workers} in-process echo workers ` +
        `answering after ${s.latencyMs} ms, float16 wire; ${jobs} jobs after a warm-up\n`,
    );
    printTable([row]);
    process.stdout.write('\nms per round of ' + s.window + ' evaluations, by phase (CPU profile self time; builtins charged to their caller):\n');
    printTable(Object.entries(phases).map(([phase, ms]) => ({ phase, ms, share: profiled > 0 ? `${Math.round((100 * ms) / (profiled * perRound))}%` : '' })));
    process.stdout.write('\ntop functions by self time (ms per round):\n');
    printTable(
      [...byFunction]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([fn, ms]) => ({ function: fn, ms: round(ms * perRound, 2) })),
    );
  } finally {
    dispatcher.close();
    registry.close();
  }
}

