/**
 * `npm run -s bench -- compute [--json] [--model tiny-unet3d-m] [--batch 2,8] [--reps 3] [--workers 2]`
 *
 * Compute-bound evaluations, directly and through the cluster: a batch of
 * native windows of a stand-in model with realistic compute (tiny-unet3d-m:
 * 4x16x32x32 windows, ResBlocks, temporal convolutions, spatial/temporal
 * attention, cross-attention on 77x128 text embeddings)
 *
 * - direct: one `session.run` on the whole batch in this process, with the
 *   session options a worker uses (one intra-op thread);
 * - cluster: the same windows through the coordinator's Dispatcher (in this
 *   process) to `--workers` real worker processes (`propeller worker
 *   --threads 1`) over gRPC on loopback: float16 latents and embeddings on
 *   the wire, micro-batches spread over the workers, outputs decoded and
 *   checked finite.
 *
 * Columns: model, batch, directMs, clusterMs (medians over interleaved
 * repetitions), ratio = clusterMs / directMs. With W workers on W free
 * cores, the ideal ratio is about 1 / W plus the per-call overhead; on a
 * machine whose cores are shared, less.
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, tmpdir } from 'node:os';
import { spawnCliServer, type ChildServer } from '../cli/worker-process.ts';
import { createLogger } from '../common/logger.ts';
import { modelManifestSchema, type DenoiserManifest } from '../common/manifest.ts';
import { Rng } from '../common/rng.ts';
import { allFinite } from '../common/tensor-codec.ts';
import { workShape, type ConditioningTensor, type WindowWork } from '../coordinator/layout/window-work.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { ensureStandinModels } from '../models/registry.ts';
import { sessionOptions } from '../worker/model-registry.ts';
import { median, printTable, round } from './table.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';

/** One bench row (the `--json` lines). */
export interface ComputeRow {
  model: string;
  batch: number;
  directMs: number;
  clusterMs: number;
  ratio: number;
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { model: 'tiny-unet3d-m', batch: '2,8', reps: '3', workers: '2' });
  const batches = String(values.batch).split(',').map((b) => positiveInt('batch', b));
  const reps = positiveInt('reps', values.reps);
  const workerCount = positiveInt('workers', values.workers);
  const [dir] = await ensureStandinModels([String(values.model)]);
  const m = modelManifestSchema.parse(JSON.parse(readFileSync(join(dir!, 'manifest.json'), 'utf8')));
  if (m.kind !== 'denoiser') throw new Error(`bench compute: ${m.name} is not a denoiser`);

  const session = await ort.InferenceSession.create(join(dir!, m.file), sessionOptions({ device: 'cpu', intraOpThreads: 1, interOpThreads: 1 }));
  const env = { PROPELLER_LOG_LEVEL: 'warn' };
  const workers: ChildServer[] = [];
  const log = createLogger('bench', { level: 'warn' });
  let coordinator: Awaited<ReturnType<typeof startCoordinator>> | undefined;
  const rows: ComputeRow[] = [];
  try {
    workers.push(...(await Promise.all(Array.from({ length: workerCount }, (_, i) => spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', dir!, '--threads', '1', '--id', `compute-${i}`], { env })))));
    coordinator = await startCoordinator({ listen: '127.0.0.1:0', workers: workers.map((w) => w.address), dataDir: mkdtempSync(join(tmpdir(), 'propeller-bench-compute-')) }, log);
    const pool = coordinator.dispatcher;
    for (let i = 0; i < 100 && coordinator.registry.serving(m.name).length < workerCount; i++) await new Promise((r) => setTimeout(r, 100));
    if (coordinator.registry.serving(m.name).length < workerCount) throw new Error(`bench compute: ${workerCount} workers do not all serve ${m.name}`);
    for (const batch of batches) {
      const items = windows(m, batch);
      const direct = () => runDirect(session, m, items);
      const cluster = async () => {
        const outs = await pool.evaluate(m.name, items);
        if (!outs.every(allFinite)) throw new Error('cluster output is not finite');
      };
      await direct();
      await cluster(); // warm-up: first calls pay for allocations and connections
      const d: number[] = [];
      const c: number[] = [];
      for (let r = 0; r < reps; r++) {
        // Alternate the order so drift in the machine's speed hits both alike.
        for (const [fn, out] of r % 2 ? ([[cluster, c], [direct, d]] as const) : ([[direct, d], [cluster, c]] as const)) {
          const t0 = performance.now();
          await fn();
          out.push(performance.now() - t0);
        }
      }
      const row: ComputeRow = { model: m.name, batch, directMs: round(median(d), 1), clusterMs: round(median(c), 1), ratio: round(median(c) / median(d), 3) };
      rows.push(row);
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
    }
  } finally {
    await coordinator?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await session.release();
  }
  if (values.json) return;
  process.stdout.write(`${m.name}: direct = one session.run of the batch, 1 intra-op thread; cluster = Dispatcher -> ${workerCount} worker processes x 1 thread over gRPC (float16 wire); ${cpus().length} cores on this machine\n`);
  printTable(rows as unknown as Record<string, unknown>[]);
}

/** `batch` native windows with seeded noise, timesteps and the manifest's conditioning. */
function windows(m: DenoiserManifest, batch: number): WindowWork[] {
  const shape = [m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  const per = shape.reduce((p, d) => p * d, 1);
  const rng = new Rng(2024, batch);
  return Array.from({ length: batch }, (_, i) => {
    const cond: Record<string, ConditioningTensor> = {};
    for (const c of m.conditioning ?? []) {
      if (c.source !== 'embeddings') throw new Error(`bench compute: ${m.name} needs ${c.source} conditioning, which this bench does not form`);
      cond[c.input] = { data: rng.fillNormal(new Float32Array(c.shape.reduce((p, d) => p * d, 1))), shape: c.shape };
    }
    const window = { index: i, f0: 0, y0: 0, x0: 0, frames: shape[1]!, height: shape[2]!, width: shape[3]! };
    return { window, sample: rng.fillNormal(new Float32Array(per)), timestep: 999 - ((i * 97) % 1000), conditioning: { cond } };
  });
}

/** The batch as one run, as a worker would feed it. */
async function runDirect(session: ort.InferenceSession, m: DenoiserManifest, items: readonly WindowWork[]): Promise<void> {
  const b = items.length;
  const per = items[0]!.sample.length;
  const sample = new Float32Array(b * per);
  items.forEach((it, i) => sample.set(it.sample, i * per));
  const feeds: Record<string, ort.Tensor> = {
    [m.inputs.sample]: new ort.Tensor('float32', sample, [b, ...workShape(items[0]!)]),
    [m.inputs.timestep]: new ort.Tensor('float32', Float32Array.from(items, (it) => it.timestep), [b]),
  };
  for (const c of m.conditioning ?? []) {
    if (c.source !== 'embeddings') continue;
    const size = c.shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(b * size);
    items.forEach((it, i) => data.set(it.conditioning!.cond[c.input]!.data, i * size));
    feeds[c.input] = new ort.Tensor('float32', data, [b, ...c.shape]);
  }
  const out = await session.run(feeds, [m.output]);
  const data = out[m.output]!.data as Float32Array;
  for (let i = 0; i < b; i++) if (!allFinite(data.subarray(i * per, (i + 1) * per))) throw new Error('direct output is not finite');
}

