/**
 * `npm run -s bench -- overhead [--json] [--batch 8] [--reps 40]`
 *
 * What a worker costs over calling ONNX Runtime in-process: the same batch
 * of native field-mixture windows (4x16x32x32 each, with class weights)
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
 * Runs are interleaved (rotating the order every repetition) so drift in
 * the machine's speed hits every path alike; each row reports medians over
 * the repetitions. Columns: directMs, viaWorkerMs, ratio (= viaWorkerMs /
 * directMs; target <= 1.10 for a batch of 8), and, to see where the rest
 * goes: ortMs (the worker's own `session.run` time, from its reply),
 * clientCodecMs (encoding the request and decoding the reply in the client)
 * and echoMs, the transport floor: the same encoded request to a gRPC server
 * on loopback that answers with the request's tensors as outputs (no codec,
 * no model), i.e. what grpc-js and protobuf alone cost for these bytes.
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
import { parseArgs } from 'node:util';
import { messageLimitOptions } from '../common/grpc-options.ts';
import { createLogger } from '../common/logger.ts';
import { modelManifestSchema, type DenoiserManifest } from '../common/manifest.ts';
import { loadProtos } from '../common/proto/load.ts';
import type { EvaluateItem } from '../common/proto/generated/propeller/v1/EvaluateItem.ts';
import type { EvaluateRequest__Output } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import { Rng } from '../common/rng.ts';
import { allFinite, decodeTensor, encodeTensor } from '../common/tensor-codec.ts';
import { WorkerClient } from '../coordinator/cluster/worker-client.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import { sessionOptions } from '../worker/model-registry.ts';
import { startWorker, type WorkerHandle } from '../worker/server.ts';
import { SIM_PROFILES, modelledSeconds, simProfileOf } from '../worker/sim-profiles.ts';
import { median, printTable, round } from './table.ts';

/** Acceptance: a batch of 8 native windows through a worker costs at most this much more than directly. */
export const OVERHEAD_TARGET = 1.1;

type Wire = 'float16' | 'float32';

/** A bench row. */
export interface OverheadRow {
  /** `onnx-cpu`: the reference model for real; `sim:<profile>`: a simulated GPU (see the file comment). */
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
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean' },
      batch: { type: 'string', default: '8' },
      reps: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '5' },
      sim: { type: 'string', default: 'h100-video' },
      'sim-reps': { type: 'string', default: '8' },
    },
  });
  const batch = positiveInt('batch', values.batch);
  const reps = positiveInt('reps', values.reps);
  const warmup = Number(values.warmup);
  const simProfile = values.sim ? simProfileOf(`sim:${values.sim}`) : undefined;
  const dir = await ensureReferenceModels();
  const m = modelManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'field-mixture', 'manifest.json'), 'utf8'))) as DenoiserManifest;
  const shape = [m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  const per = shape.reduce((a, b) => a * b, 1);
  const k = m.classes.length;
  const windows = Array.from({ length: batch }, (_, i) => new Rng(100 + i).fillNormal(new Float32Array(per)));
  const classWeights = new Float32Array(k).fill(1 / k);
  const timestep = 500;
  const log = createLogger('worker', { level: 'warn' });

  const session = await ort.InferenceSession.create(join(dir, m.name, m.file), sessionOptions({ device: 'cpu', intraOpThreads: 1, interOpThreads: 1 }));
  const workerOptions = { listen: '127.0.0.1:0', modelDirs: [dir], intraOpThreads: 1, interOpThreads: 1, maxBatch: Math.max(16, batch) };
  const worker = await startWorker(workerOptions, log);
  const client = new WorkerClient(worker.address, worker.config.maxMessageBytes);
  const echo = await startEchoServer();
  const echoClient = new WorkerClient(echo.address, worker.config.maxMessageBytes);

  const direct = async (): Promise<Float32Array[]> => {
    const sample = new Float32Array(batch * per);
    windows.forEach((w, i) => sample.set(w, i * per));
    const cw = new Float32Array(batch * k);
    for (let i = 0; i < batch; i++) cw.set(classWeights, i * k);
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.sample]: new ort.Tensor('float32', sample, [batch, ...shape]),
      [m.inputs.timestep]: new ort.Tensor('float32', new Float32Array(batch).fill(timestep), [batch]),
    };
    if (m.inputs.classWeights) feeds[m.inputs.classWeights] = new ort.Tensor('float32', cw, [batch, k]);
    const out = (await session.run(feeds, [m.output]))[m.output]!.data as Float32Array;
    return windows.map((_, i) => out.slice(i * per, (i + 1) * per));
  };

  const encodeItems = (wire: Wire): EvaluateItem[] =>
    windows.map((w) => ({ sample: encodeTensor(w, shape, wire), timestep, conditioning: { class_weights: encodeTensor(classWeights, [k], 'float32') } }));

  /** One call the way the dispatcher makes it; returns the client's codec time and the worker's ORT time. */
  const viaWorker = async (c: WorkerClient, wire: Wire): Promise<{ codecMs: number; ortMs: number }> => {
    const t0 = performance.now();
    const items = encodeItems(wire);
    const encodeMs = performance.now() - t0;
    const res = await c.evaluate({ model: m.name, items, outputDtype: wire, jobId: 'bench' }, 60_000);
    const t1 = performance.now();
    res.outputs.forEach((t, j) => {
      const host = decodeTensor(t, `outputs[${j}]`);
      if (host.data.length !== per || !allFinite(host.data)) throw new Error(`bad output ${j}`);
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
    for (let r = 0; r < warmup + reps; r++) {
      for (let j = 0; j < kinds.length; j++) {
        const kind = kinds[(r + j) % kinds.length]!;
        const t0 = performance.now();
        let c: { codecMs: number; ortMs: number } | undefined;
        if (kind === 'direct') await direct();
        else if (kind === 'echo16' || kind === 'echo32') {
          const wire = kind === 'echo16' ? 'float16' : 'float32';
          await echoClient.evaluate({ model: m.name, items: echoItems[wire], outputDtype: wire, jobId: 'bench' }, 60_000);
        } else c = await viaWorker(client, kind);
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
      const simReps = positiveInt('sim-reps', values['sim-reps']);
      for (let r = 0; r < 1 + simReps; r++) {
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
  if (values.json) {
    for (const row of rows) process.stdout.write(JSON.stringify(row) + '\n');
    return;
  }
  process.stdout.write(
    `batch of ${batch} native ${m.name} windows (${shape.join('x')}); medians of ${reps} interleaved repetitions; one intra-op thread both ways; worker in this process on loopback\n`,
  );
  printTable(rows as unknown as Record<string, unknown>[]);
  const f16 = rows.find((r) => r.path === 'onnx-cpu' && r.wire === 'float16')!;
  process.stdout.write(`onnx-cpu float16 (production wire): ratio ${f16.ratio} ${f16.ratio <= OVERHEAD_TARGET ? '<=' : '>'} target ${OVERHEAD_TARGET}; per-call overhead ${round(f16.viaWorkerMs - f16.directMs, 2)} ms, of which transport floor (echo) ${f16.echoMs} ms\n`);
  if (simProfile) {
    process.stdout.write(`sim:${simProfile.name} row is a SIMULATION: direct = modelled latency ${SIM_PROFILES[simProfile.name]!.fixedMs} ms + ${batch} x ${simProfile.perItemMs} ms, not a GPU measurement\n`);
  }
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
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}
