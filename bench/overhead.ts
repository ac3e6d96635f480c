/**
 * `npm run -s bench -- overhead [--json] [--models field-mixture,tiny-unet3d-m] [--batch 8] [--reps N]`
 *
 * What a worker costs over calling ONNX Runtime in-process: the same batch
 * of native windows (4x16x32x32 each, with the model's conditioning)
 *
 * - direct: copied into one batch tensor, one `session.run` on a session
 *   created exactly as a worker creates its own (one intra-op thread), the
 *   outputs sliced per window;
 * - via worker: a real worker (`startWorker`, in this process, one intra-op
 *   thread) behind a real gRPC server on loopback, called through the
 *   coordinator's `WorkerClient` with the dispatcher's encoding: latents on
 *   the wire as float16 (production) or float32, outputs decoded and
 *   checked finite, as the dispatcher does.
 *
 * Two models: `field-mixture`, the reference model, whose exact Wiener
 * filter does under a millisecond of work per window (so the per-call
 * overhead dominates), and `tiny-unet3d-m`, the UNet3D stand-in with
 * realistic compute per window (ResBlocks, temporal convolutions, spatial
 * and temporal attention, cross-attention on 77 text tokens), for which the
 * acceptance target is stated: a batch of 8 through a worker costs at most
 * 1.10x the same batch through ONNX Runtime directly.
 *
 * Runs are interleaved (rotating the order every repetition) so drift in
 * the machine's speed hits every path alike; each row reports medians over
 * the repetitions. Columns: directMs, viaWorkerMs, ratio (= viaWorkerMs /
 * directMs), and, to see where the rest goes: ortMs (the worker's own
 * `session.run` time, from its reply), clientCodecMs (encoding the request
 * and decoding the reply in the client) and echoMs, the transport floor:
 * the same encoded request to a gRPC server on loopback that answers with
 * the request's tensors as outputs (no codec, no model), i.e. what grpc-js
 * and protobuf alone cost for these bytes.
 *
 * A last row, labelled `sim:<profile>`, puts the same overhead next to a
 * GPU-class compute time: the batch through a simulated-GPU worker (real
 * outputs, then the profile's modelled latency; see worker/sim-profiles.ts),
 * against the modelled latency itself as "direct". It is a simulation: it
 * shows what the per-call overhead measured here weighs next to a batch
 * that takes hundreds of milliseconds, not a GPU measurement.
 */
import * as grpc from '@grpc/grpc-js';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageLimitOptions } from '../common/grpc-options.ts';
import { createLogger } from '../common/logger.ts';
import { modelManifestSchema, type DenoiserManifest } from '../common/manifest.ts';
import { loadProtos } from '../common/proto/load.ts';
import type { EvaluateItem } from '../common/proto/generated/propeller/v1/EvaluateItem.ts';
import type { Tensor } from '../common/proto/generated/propeller/v1/Tensor.ts';
import type { EvaluateRequest__Output } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import { Rng } from '../common/rng.ts';
import { decodeTensor, encodeTensor } from '../common/tensor-codec.ts';
import { WorkerClient } from '../coordinator/cluster/worker-client.ts';
import { ensureReferenceModels, ensureStandinModels, isStandinModel } from '../models/registry.ts';
import { sessionOptions } from '../worker/model-registry.ts';
import { startWorker, type WorkerHandle } from '../worker/server.ts';
import { SIM_PROFILES, modelledSeconds, simProfileOf, type SimProfile } from '../worker/sim-profiles.ts';
import { median, printTable, round } from './table.ts';
import { bindServer } from '../common/grpc-server.ts';
import { parseBenchArgs, positiveInt } from './bench-args.ts';

/** Acceptance: a batch of 8 native windows through a worker costs at most this much more than directly. */
export const OVERHEAD_TARGET = 1.1;

/** The model the target is stated for: realistic compute per window. */
export const OVERHEAD_TARGET_MODEL = 'tiny-unet3d-m';

type Wire = 'float16' | 'float32';
const OUTPUT_DTYPE = { float16: 'OUTPUT_DTYPE_FLOAT16', float32: 'OUTPUT_DTYPE_FLOAT32' } as const;

/** A bench row. */
export interface OverheadRow {
  model: string;
  /** `onnx-cpu`: the model for real; `sim:<profile>`: a simulated GPU (see the file comment). */
  path: string;
  wire: Wire;
  batch: number;
  directMs: number;
  viaWorkerMs: number;
  ratio: number;
  echoMs: number;
  ortMs: number;
  clientCodecMs: number;
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { models: `field-mixture,${OVERHEAD_TARGET_MODEL}`, batch: '8', reps: undefined, warmup: '3', sim: 'h100-video', 'sim-reps': '8' });
  const batch = positiveInt('batch', values.batch);
  const reps = values.reps === undefined ? undefined : positiveInt('reps', values.reps);
  const warmup = Number(values.warmup);
  const simProfile = values.sim ? simProfileOf(`sim:${values.sim}`) : undefined;
  const rows: OverheadRow[] = [];
  const models = String(values.models).split(',').filter(Boolean);
  for (const [i, name] of models.entries()) {
    // The simulated-GPU row once, with the first model.
    const modelRows = await measureModel(name, { batch, reps, warmup, simProfile: i === 0 ? simProfile : undefined, simReps: positiveInt('sim-reps', values['sim-reps']) });
    rows.push(...modelRows);
    if (values.json) for (const row of modelRows) process.stdout.write(JSON.stringify(row) + '\n');
  }
  if (values.json) return;
  process.stdout.write(
    `batch of ${batch} native windows per call; medians of interleaved repetitions; one intra-op thread both ways; worker in this process on loopback\n`,
  );
  printTable(rows as unknown as Record<string, unknown>[]);
  for (const r of rows.filter((r) => r.path === 'onnx-cpu' && r.wire === 'float16')) {
    const verdict = r.model === OVERHEAD_TARGET_MODEL ? ` (target ${OVERHEAD_TARGET}: ${r.ratio <= OVERHEAD_TARGET ? 'met' : 'NOT met'})` : '';
    process.stdout.write(`${r.model} float16 (production wire): ratio ${r.ratio}${verdict}; per-call overhead ${round(r.viaWorkerMs - r.directMs, 2)} ms, of which transport floor (echo) ${r.echoMs} ms\n`);
  }
  if (simProfile) {
    process.stdout.write(`sim:${simProfile.name} row is a SIMULATION: direct = modelled latency ${SIM_PROFILES[simProfile.name]!.fixedMs} ms + ${batch} x ${simProfile.perItemMs} ms, not a GPU measurement\n`);
  }
}

interface MeasureOptions {
  batch: number;
  /** Repetitions; default: as many as fit about a minute per model (5 to 40). */
  reps: number | undefined;
  warmup: number;
  simProfile: SimProfile | undefined;
  simReps: number;
}

/** The model's directory: stand-ins and reference models live in different caches. */
async function modelDirectory(name: string): Promise<{ dir: string; modelDirs: string[] }> {
  if (isStandinModel(name)) {
    const [dir] = await ensureStandinModels([name]);
    return { dir: dir!, modelDirs: [dir!] };
  }
  const root = await ensureReferenceModels();
  return { dir: join(root, name), modelDirs: [root] };
}

/** Random but fixed conditioning tensors the model's manifest asks for, by wire key. */
function conditioningFor(m: DenoiserManifest): { wire: Record<string, Float32Array>; shapes: Record<string, number[]> } {
  const wire: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  if (m.inputs.classWeights) {
    const k = m.classes.length;
    wire[m.inputs.classWeights] = new Float32Array(k).fill(1 / k);
    shapes[m.inputs.classWeights] = [k];
  }
  for (const c of m.conditioning ?? []) {
    if (c.source !== 'embeddings') throw new Error(`bench overhead: model "${m.name}" needs ${c.source} conditioning, which this bench does not form`);
    const n = c.shape.reduce((a, b) => a * b, 1);
    wire[c.input] = new Rng(7).fillNormal(new Float32Array(n));
    shapes[c.input] = [...c.shape];
  }
  return { wire, shapes };
}

async function measureModel(name: string, o: MeasureOptions): Promise<OverheadRow[]> {
  const { batch, warmup, simProfile } = o;
  const { dir, modelDirs } = await modelDirectory(name);
  const m = modelManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))) as DenoiserManifest;
  if ((m.dtype ?? 'float32') !== 'float32' || (m.sampleLayout ?? 'BCFHW') !== 'BCFHW') throw new Error(`bench overhead: model "${name}" is not a float32 BCFHW model`);
  const shape = [m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  const per = shape.reduce((a, b) => a * b, 1);
  const windows = Array.from({ length: batch }, (_, i) => new Rng(100 + i).fillNormal(new Float32Array(per)));
  const cond = conditioningFor(m);
  const timestep = 500;
  const log = createLogger('worker', { level: 'warn' });

  const session = await ort.InferenceSession.create(join(dir, m.file), sessionOptions({ device: 'cpu', intraOpThreads: 1, interOpThreads: 1 }));
  const workerOptions = { listen: '127.0.0.1:0', modelDirs, intraOpThreads: 1, interOpThreads: 1, maxBatch: Math.max(16, batch) };
  const worker = await startWorker(workerOptions, log);
  const client = new WorkerClient(worker.address, worker.config.maxMessageBytes);
  const echo = await startEchoServer();
  const echoClient = new WorkerClient(echo.address, worker.config.maxMessageBytes);

  const direct = async (): Promise<Float32Array[]> => {
    const sample = new Float32Array(batch * per);
    windows.forEach((w, i) => sample.set(w, i * per));
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.sample]: new ort.Tensor('float32', sample, [batch, ...shape]),
      [m.inputs.timestep]: new ort.Tensor('float32', new Float32Array(batch).fill(timestep), [batch]),
    };
    for (const [key, data] of Object.entries(cond.wire)) {
      const input = key;
      const batched = new Float32Array(batch * data.length);
      for (let i = 0; i < batch; i++) batched.set(data, i * data.length);
      feeds[input] = new ort.Tensor('float32', batched, [batch, ...cond.shapes[key]!]);
    }
    const out = (await session.run(feeds, [m.output]))[m.output]!.data as Float32Array;
    return windows.map((_, i) => out.slice(i * per, (i + 1) * per));
  };

  const encodeItems = (wire: Wire): EvaluateItem[] =>
    windows.map((w) => {
      const named: Record<string, Tensor> = {};
      for (const [key, data] of Object.entries(cond.wire)) named[key] = encodeTensor(data, cond.shapes[key]!, 'float32');
      return { sample: encodeTensor(w, shape, wire), timestep, cond: named };
    });

  /** One call the way the dispatcher makes it; returns the client's codec time and the worker's ORT time. */
  const viaWorker = async (c: WorkerClient, wire: Wire): Promise<{ codecMs: number; ortMs: number }> => {
    const t0 = performance.now();
    const items = encodeItems(wire);
    const encodeMs = performance.now() - t0;
    const res = await c.evaluate({ model: m.name, items, outputDtype: OUTPUT_DTYPE[wire], jobId: 'bench' }, 600_000);
    const t1 = performance.now();
    res.outputs.forEach((t, j) => {
      const host = decodeTensor(t, `outputs[${j}]`, { requireFinite: true });
      if (host.data.length !== per) throw new Error(`bad output ${j}`);
    });
    return { codecMs: encodeMs + performance.now() - t1, ortMs: res.computeSeconds * 1000 };
  };

  // Requests for the echo server, encoded once: it measures the transport alone.
  const echoItems = { float16: encodeItems('float16'), float32: encodeItems('float32') };
  const kinds = ['direct', 'float16', 'float32', 'echo16', 'echo32'] as const;
  const times: Record<(typeof kinds)[number], number[]> = { direct: [], float16: [], float32: [], echo16: [], echo32: [] };
  const codec: Record<Wire, number[]> = { float16: [], float32: [] };
  const ortMs: Record<Wire, number[]> = { float16: [], float32: [] };
  const rows: OverheadRow[] = [];
  let sim: WorkerHandle | undefined;
  let simClient: WorkerClient | undefined;
  try {
    let reps = o.reps;
    for (let r = 0; r < warmup + (reps ?? 1); r++) {
      for (let j = 0; j < kinds.length; j++) {
        const kind = kinds[(r + j) % kinds.length]!;
        const t0 = performance.now();
        let c: { codecMs: number; ortMs: number } | undefined;
        if (kind === 'direct') await direct();
        else if (kind === 'echo16' || kind === 'echo32') {
          const wire = kind === 'echo16' ? 'float16' : 'float32';
          await echoClient.evaluate({ model: m.name, items: echoItems[wire], outputDtype: OUTPUT_DTYPE[wire], jobId: 'bench' }, 600_000);
        } else c = await viaWorker(client, kind);
        if (kind === 'direct' && r === warmup - 1 && reps === undefined) {
          // About a minute per model: three model runs per repetition.
          reps = Math.max(5, Math.min(40, Math.round(60_000 / (3 * (performance.now() - t0)))));
        }
        if (r < warmup) continue;
        times[kind].push(performance.now() - t0);
        if (c && (kind === 'float16' || kind === 'float32')) {
          codec[kind].push(c.codecMs);
          ortMs[kind].push(c.ortMs);
        }
      }
    }
    const directMs = median(times.direct);
    for (const wire of ['float16', 'float32'] as const) {
      const via = median(times[wire]);
      rows.push({
        model: m.name,
        path: 'onnx-cpu',
        wire,
        batch,
        directMs: round(directMs, 2),
        viaWorkerMs: round(via, 2),
        ratio: round(via / directMs, 3),
        echoMs: round(median(times[wire === 'float16' ? 'echo16' : 'echo32']), 2),
        ortMs: round(median(ortMs[wire]), 2),
        clientCodecMs: round(median(codec[wire]), 2),
      });
    }
    if (simProfile) {
      // SIMULATION: the same batch on a simulated GPU, against the profile's modelled latency.
      sim = await startWorker({ ...workerOptions, device: `sim:${simProfile.name}` }, createLogger('worker', { level: 'error' }));
      simClient = new WorkerClient(sim.address, sim.config.maxMessageBytes);
      const simTimes: number[] = [];
      const simCodec: number[] = [];
      const simOrt: number[] = [];
      for (let r = 0; r < 1 + o.simReps; r++) {
        const t0 = performance.now();
        const c = await viaWorker(simClient, 'float16');
        if (r === 0) continue;
        simTimes.push(performance.now() - t0);
        simCodec.push(c.codecMs);
        simOrt.push(c.ortMs);
      }
      const modelledMs = modelledSeconds(simProfile, batch) * 1000;
      const via = median(simTimes);
      rows.push({
        model: m.name,
        path: `sim:${simProfile.name}`,
        wire: 'float16',
        batch,
        directMs: round(modelledMs, 2),
        viaWorkerMs: round(via, 2),
        ratio: round(via / modelledMs, 3),
        echoMs: round(median(times.echo16), 2),
        ortMs: round(median(simOrt), 2),
        clientCodecMs: round(median(simCodec), 2),
      });
    }
  } finally {
    client.close();
    echoClient.close();
    simClient?.close();
    echo.server.forceShutdown();
    await Promise.all([worker.drain(), sim?.drain()]);
    await session.release();
  }
  return rows;
}

/**
 * A DenoiserService on loopback whose Evaluate returns the request's samples
 * as the outputs: protobuf and grpc-js for the same bytes, nothing else.
 */
async function startEchoServer(): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server(messageLimitOptions());
  const service = loadProtos().denoiser.propeller.v1.DenoiserService.service;
  server.addService(service, {
    Evaluate: (call: grpc.ServerUnaryCall<EvaluateRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { outputs: call.request.items.map((it) => it.sample), computeSeconds: 0 }),
  } as unknown as grpc.UntypedServiceImplementation);
  return { server, address: await bindServer(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure()) };
}

