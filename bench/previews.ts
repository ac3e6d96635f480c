/**
 * `npm run -s bench -- previews [--json] [--reps N] [--steps N] [--frames N] [--workers N]`
 *
 * What live previews cost a job: the same job (field-mixture, `--frames`
 * frames at 256x256, `--steps` steps, seed 11, mp4) on an embedded cluster
 * (coordinator in this process, `--workers` worker processes with one thread
 * each), with previews off and on, interleaved round by round (the variants'
 * order rotates each round), medians over `--reps` rounds. Variants:
 *
 * - `off`: no previews;
 * - `map/step`, `decoder/step`: a preview after every step the producer
 *   keeps up with (every_seconds 0, the worst case), through the manifest's
 *   colour map on the coordinator or the VAE's Decode on a worker;
 * - `default`: what a job gets asking for previews with no settings (every 5 s, auto);
 * - `decoder/5s`: the default interval through the decoder (a model without a map).
 *
 * Per variant: seconds (the job's run, started to finished, encode
 * included) and cpuSeconds (the CPU time the job took: this process, the
 * coordinator's, and every worker process's, from /proc), medians; ratio
 * and cpuRatio, the median over rounds of the variant's over `off`'s of the
 * same round (paired, so a machine whose load drifts — other work shares
 * it — moves both sides of a ratio alike); mainShare, the coordinator's
 * main-thread time on previews (the job's `preview_main_thread_ms` metric:
 * copying frames on the engine's path, drawing strips) over the job's time,
 * the part that competes with sampling on the coordinator, measured
 * in-process, free of the noise of other work on the machine; decodeMs, the
 * job's Decode calls for previews; previews received on Watch. The map's colour
 * error: the same seed makes the same predictions, so the map and decoder
 * previews of the same step show the same latent; `mapErr` is the mean
 * per-pixel RGB distance (0..441) between them over the steps both runs
 * previewed. Target: previews cost at most 5% of a job's time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PreviewSpec } from '../common/proto/generated/propeller/v1/PreviewSpec.ts';
import type { JobClient } from '../cli/job-client.ts';
import { decodePng } from '../coordinator/previews/png.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';
import { startBenchCluster } from './bench-cluster.ts';
import { median, printTable, round } from './table.ts';

/** Previews may cost at most this share of a job's time. */
export const PREVIEW_COST_TARGET = 0.05;

const VARIANTS: { name: string; previews?: PreviewSpec }[] = [
  { name: 'off' },
  { name: 'map/step', previews: { everySeconds: 0, source: 'map' } },
  { name: 'decoder/step', previews: { everySeconds: 0, source: 'decoder' } },
  { name: 'default', previews: {} },
  { name: 'decoder/5s', previews: { everySeconds: 5, source: 'decoder' } },
];

export type PreviewsRow = { variant: string; seconds: number; ratio: number; cpuSeconds: number; cpuRatio: number; mainShare: number; decodeMs: number; previews: number };

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { reps: '5', steps: '30', frames: '48', workers: '2' });
  const [reps, steps, frames, workers] = (['reps', 'steps', 'frames', 'workers'] as const).map((k) => positiveInt(k, values[k]));
  const bench = await startBenchCluster(workers!, 'previews');
  const { client } = bench;
  const pids = bench.cluster.workers.map((w) => w.process.pid!);
  const seconds = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const share = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const decodeMs = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const counts = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  // The latest map and decoder preview of each step (the same in every round: the seed is fixed).
  const images = { 'map/step': new Map<number, Buffer>(), 'decoder/step': new Map<number, Buffer>() } as Record<string, Map<number, Buffer>>;
  try {
    // One job first, untimed: the workers load their sessions, the coordinator warms up.
    await runJob(client, { frames: frames!, steps: steps! }, undefined, pids);
    for (let rep = 0; rep < reps!; rep++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = VARIANTS[(k + rep) % VARIANTS.length]!;
        const r = await runJob(client, { frames: frames!, steps: steps! }, v.previews, pids);
        seconds.get(v.name)!.push(r.seconds);
        cpu.get(v.name)!.push(r.cpuSeconds);
        share.get(v.name)!.push((r.metrics.preview_main_thread_ms ?? 0) / (r.seconds * 1000));
        decodeMs.get(v.name)!.push(r.metrics.preview_decode_ms ?? 0);
        counts.get(v.name)!.push(r.previews.size);
        for (const [step, png] of r.previews) images[v.name]?.set(step, png);
        process.stderr.write(`round ${rep + 1}: ${v.name} ${r.seconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(2)} CPU s, ${r.previews.size} previews\n`);
      }
    }
  } finally {
    await bench.close();
  }
  // Round r's value of a variant over off's in the same round.
  const paired = (m: Map<string, number[]>, name: string) => median(m.get(name)!.map((x, r) => x / m.get('off')![r]!));
  const rows: PreviewsRow[] = VARIANTS.map((v) => {
    return {
      variant: v.name,
      seconds: round(median(seconds.get(v.name)!), 2),
      ratio: round(paired(seconds, v.name), 3),
      cpuSeconds: round(median(cpu.get(v.name)!), 2),
      cpuRatio: round(paired(cpu, v.name), 3),
      mainShare: round(median(share.get(v.name)!), 4),
      decodeMs: round(median(decodeMs.get(v.name)!), 0),
      previews: median(counts.get(v.name)!),
    };
  });
  const mapErr = colourError(images['map/step']!, images['decoder/step']!);
  if (values.json) {
    for (const row of rows) process.stdout.write(JSON.stringify(row) + '\n');
    process.stdout.write(JSON.stringify({ mapErr }) + '\n');
    return;
  }
  printTable(rows);
  process.stdout.write(`map colour error vs decoder (mean RGB distance, 0..441): ${mapErr.mean} over ${mapErr.steps} common steps, ${mapErr.last} at the last\n`);
  for (const r of rows.slice(1)) {
    process.stdout.write(`${r.variant}: main-thread share ${(r.mainShare * 100).toFixed(2)}% (${r.mainShare <= PREVIEW_COST_TARGET ? 'ok' : 'ABOVE'} the ${PREVIEW_COST_TARGET * 100}% target); time ${((r.ratio - 1) * 100).toFixed(1)}%, CPU ${((r.cpuRatio - 1) * 100).toFixed(1)}% over off\n`);
  }
}

/** Submits the bench job and watches it; its run time and its previews by step. */
async function runJob(client: JobClient, size: { frames: number; steps: number }, previews: PreviewSpec | undefined, workerPids: number[]): Promise<{ seconds: number; cpuSeconds: number; metrics: Record<string, number>; previews: Map<number, Buffer> }> {
  const cpuBefore = cpuSeconds(workerPids);
  const job = await client.submit({ model: 'field-mixture', prompt: '', frames: size.frames, height: 256, width: 256, steps: size.steps, seed: 11, output: { format: 'mp4' }, ...(previews ? { previews } : {}) });
  const shown = new Map<number, Buffer>();
  const last = await client.watch(job.id, (e) => {
    if (e.preview && !e.preview.contactSheet) shown.set(e.preview.step, e.preview.image);
  });
  if (last.state !== 'SUCCEEDED') throw new Error(`bench job ${job.id} ended ${last.state}: ${last.error}`);
  return { seconds: (Number(last.finishedAtMs) - Number(last.startedAtMs)) / 1000, cpuSeconds: cpuSeconds(workerPids) - cpuBefore, metrics: last.metrics, previews: shown };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds used so far by this process (the coordinator and the client) and the worker processes. */
function cpuSeconds(workerPids: number[]): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1e6;
  for (const pid of workerPids) {
    // /proc/PID/stat: utime and stime are fields 14 and 15, after the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
  return total;
}

/** Mean per-pixel RGB distance between the map's and the decoder's previews of the same steps. */
function colourError(map: Map<number, Buffer>, decoder: Map<number, Buffer>): { mean: number; last: number; steps: number } {
  const common = [...map.keys()].filter((s) => decoder.has(s)).sort((a, b) => a - b);
  const d = common.map((s) => distance(decodePng(map.get(s)!).rgb, decodePng(decoder.get(s)!).rgb));
  return { mean: d.length ? round(d.reduce((a, b) => a + b, 0) / d.length, 1) : Number.NaN, last: d.length ? round(d.at(-1)!, 1) : Number.NaN, steps: d.length };
}

function distance(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 3) sum += Math.hypot(a[i]! - b[i]!, a[i + 1]! - b[i + 1]!, a[i + 2]! - b[i + 2]!);
  return sum / (a.length / 3);
}
