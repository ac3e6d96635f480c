/**
 * `npm run -s bench -- long [--json] [--steps N] [--workers N] [--prompt P] [--blend KIND] [--noise-init KIND] [--only CASE]`
 *
 * Long and wide videos on an embedded cluster (coordinator in this process,
 * `--workers` worker processes with one thread each), through the real gRPC
 * API, mp4 output (decode + encode exercised; the file is downloaded and
 * probed). Two videos, each with the default overlapped layout and with
 * isolated non-overlapping windows (chunk_overlap 0, tile_overlap 0) as the
 * baseline:
 *
 * - `long`: 512 frames at 256x256 (latent 4x512x64x64);
 * - `wide`: 128 frames at 512x1024 (latent 4x128x128x256).
 *
 * One row per case: windows (per step) and evals (model evaluations) from the
 * job, seconds (submit to SUCCEEDED, encode included), seamTemporal and
 * seamSpatial (the job's seam metrics, see coordinator/layout/seams.ts), and
 * rssMB, the peak resident memory of this process (the coordinator's)
 * sampled every 100 ms while the job runs. Acceptance: overlapped seams <= 1.15.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import type { JobClient } from '../cli/job-client.ts';
import { probeVideo } from '../coordinator/video/probe.ts';
import { startBenchCluster } from './bench-cluster.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';
import { printTable, round } from './table.ts';

interface Case {
  name: string;
  frames: number;
  height: number;
  width: number;
  isolated: boolean;
}

const VIDEOS = [
  { name: 'long', frames: 512, height: 256, width: 256 },
  { name: 'wide', frames: 128, height: 512, width: 1024 },
] as const;

const CASES: Case[] = VIDEOS.flatMap((v) => [
  { ...v, name: `${v.name}-overlapped`, isolated: false },
  { ...v, name: `${v.name}-isolated`, isolated: true },
]);

/** Overlapped runs must keep both seam ratios at or below this. */
export const SEAM_TARGET = 1.15;

/** Peak RSS sampling period. */
const RSS_PERIOD_MS = 100;

/** A bench row. */
export interface LongRow {
  case: string;
  frames: number;
  height: number;
  width: number;
  windows: number;
  evals: number;
  seconds: number;
  seamTemporal: number;
  seamSpatial: number;
  rssMB: number;
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { steps: '10', workers: '2', prompt: 'clouds', blend: '', 'noise-init': '', only: undefined });
  const steps = positiveInt('steps', values.steps);
  const workers = positiveInt('workers', values.workers);
  const bench = await startBenchCluster(workers, 'long');
  const { client, dataDir } = bench;
  const rows: LongRow[] = [];
  try {
    for (const c of CASES) {
      if (values.only && !c.name.startsWith(values.only)) continue;
      const spec: JobSpec = {
        model: 'field-mixture',
        prompt: values.prompt,
        frames: c.frames,
        height: c.height,
        width: c.width,
        steps,
        seed: 11,
        layout: {
          blend: values.blend,
          noiseInit: values['noise-init'],
          ...(c.isolated ? { chunkOverlap: 0, tileOverlap: 0 } : {}),
        },
        output: { format: 'mp4' },
      };
      const row = await runCase(client, c, spec, join(dataDir, `${c.name}.mp4`));
      rows.push(row);
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      else process.stderr.write(`${c.name}: ${row.seconds} s, seams ${row.seamTemporal} / ${row.seamSpatial}, ${row.rssMB} MB\n`);
    }
  } finally {
    await bench.close();
  }
  if (!values.json) {
    printTable(rows);
    const bad = rows.filter((r) => r.case.endsWith('-overlapped') && (r.seamTemporal > SEAM_TARGET || r.seamSpatial > SEAM_TARGET));
    process.stdout.write(bad.length ? `overlapped seams above ${SEAM_TARGET}: ${bad.map((r) => r.case).join(', ')}\n` : `overlapped seams <= ${SEAM_TARGET}: ok\n`);
  }
}

/** Runs one job to completion, sampling this process's RSS meanwhile; downloads and probes the mp4. */
async function runCase(client: JobClient, c: Case, spec: JobSpec, outPath: string): Promise<LongRow> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_PERIOD_MS);
  const started = performance.now();
  let job;
  try {
    const submitted = await client.submit(spec);
    job = await client.watch(submitted.id, () => undefined);
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  if (job.state !== 'SUCCEEDED') throw new Error(`${c.name}: job ${job.id} ended ${job.state}: ${job.error}`);
  await client.download(job.id, outPath);
  const probe = await probeVideo(outPath);
  if (probe.frames !== c.frames || probe.width !== c.width || probe.height !== c.height) {
    throw new Error(`${c.name}: output is ${probe.frames} frames ${probe.width}x${probe.height}, expected ${c.frames} ${c.width}x${c.height}`);
  }
  await rm(outPath, { force: true });
  const metric = (key: string): number => {
    const v = job.metrics[key];
    if (v === undefined) throw new Error(`${c.name}: job ${job.id} reports no metric "${key}"`);
    return v;
  };
  return {
    case: c.name,
    frames: c.frames,
    height: c.height,
    width: c.width,
    windows: metric('windows'),
    evals: metric('evaluations'),
    seconds: round(seconds, 1),
    seamTemporal: round(metric('seam_temporal'), 3),
    seamSpatial: round(metric('seam_spatial'), 3),
    rssMB: Math.round(peak / 2 ** 20),
  };
}
