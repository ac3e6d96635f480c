import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import { Rng } from '../../common/rng.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { SIM_PROFILES, modelledSeconds } from '../../worker/sim-profiles.ts';
import { call, denoiserClient, startTestWorker } from '../helpers/servers.ts';

const SHAPE = [4, 16, 32, 32];
const PROFILE = SIM_PROFILES['h100-video']!;
let sim: WorkerHandle;
let cpu: WorkerHandle;
let simClient: DenoiserServiceClient;
let cpuClient: DenoiserServiceClient;

before(async () => {
  [sim, cpu] = await Promise.all([startTestWorker({ device: 'sim:h100-video' }), startTestWorker({ device: 'cpu' })]);
  simClient = denoiserClient(sim.address);
  cpuClient = denoiserClient(cpu.address);
});

after(async () => {
  simClient.close();
  cpuClient.close();
  await Promise.all([sim.drain(), cpu.drain()]);
});

function request(n: number, seed: number) {
  const cw = encodeTensor(new Float32Array([0, 0, 1, 0, 0, 0]), [6], 'float32');
  return {
    model: 'field-mixture',
    outputDtype: 'OUTPUT_DTYPE_FLOAT32',
    items: Array.from({ length: n }, (_, i) => ({
      sample: encodeTensor(new Rng(seed + i).fillNormal(new Float32Array(4 * 16 * 32 * 32)), SHAPE, 'float32'),
      timestep: 250 + 50 * i,
      cond: { class_weights: cw },
    })),
  };
}

function evaluate(client: DenoiserServiceClient, req: ReturnType<typeof request>): Promise<EvaluateResponse__Output> {
  return call(client.Evaluate.bind(client), req as never);
}

test('sim worker - Info reports the simulated device', async () => {
  const info = await call<object, InfoResponse__Output>(simClient.Info.bind(simClient), {});
  assert.equal(info.device, 'sim:h100-video');
  assert.equal(info.capacity, 1);
  assert.ok(info.models.some((m) => m.name === 'field-mixture' && m.available));
});

test('sim worker - Evaluate takes at least the modelled latency and returns the cpu worker outputs', async () => {
  const req = request(3, 40);
  await evaluate(simClient, request(1, 1)); // warm up, so the timed call measures the model, not a first run
  const { waitedSeconds: waitedBefore, batches: batchesBefore } = sim.simulation!.stats;
  const t0 = performance.now();
  const simRes = await evaluate(simClient, req);
  const simMs = performance.now() - t0;
  const cpuRes = await evaluate(cpuClient, req);
  const modelledMs = modelledSeconds(PROFILE, 3) * 1000;
  assert.ok(simMs >= modelledMs, `sim Evaluate took ${simMs.toFixed(1)} ms, modelled ${modelledMs} ms`);
  // Loaded test machines may add latency, never remove it. A double wait is
  // caught by the simulator's own counters (one batch, at most the modelled
  // time slept), not by a wall-clock bound a busy machine could break.
  const { waitedSeconds, batches } = sim.simulation!.stats;
  assert.equal(batches - batchesBefore, 1);
  assert.ok((waitedSeconds - waitedBefore) * 1000 <= modelledMs + 1e-6, `the simulator slept ${((waitedSeconds - waitedBefore) * 1000).toFixed(1)} ms for a ${modelledMs} ms batch`);
  assert.ok(simMs < 5 * modelledMs + 5_000, `sim Evaluate took ${simMs.toFixed(1)} ms, far above the modelled ${modelledMs} ms`);
  assert.equal(simRes.outputs.length, 3);
  simRes.outputs.forEach((o, i) => {
    assert.deepEqual(o.shape.map(Number), SHAPE);
    assert.ok(Buffer.compare(o.data, cpuRes.outputs[i]!.data) === 0, `output ${i} differs from the cpu worker's`);
  });
  const stats = sim.simulation!.stats;
  assert.ok(stats.batches >= 2 && stats.items >= 4);
});

test('sim worker - one batch at a time: concurrent calls queue behind each other', async () => {
  const before = sim.simulation!.stats.batches;
  const t0 = performance.now();
  await Promise.all([evaluate(simClient, request(2, 60)), evaluate(simClient, request(2, 70))]);
  const ms = performance.now() - t0;
  const serial = 2 * modelledSeconds(PROFILE, 2) * 1000;
  assert.ok(ms >= serial, `two concurrent 2-item calls took ${ms.toFixed(1)} ms; one GPU runs them back to back in ${serial} ms`);
  assert.equal(sim.simulation!.stats.batches - before, 2);
  assert.equal(cpu.simulation, undefined);
});

test('sim worker - an unknown profile fails the start with the known profiles listed', async () => {
  await assert.rejects(startTestWorker({ device: 'sim:tpu-v9' }), /unknown simulated device profile "tpu-v9" \(known: a100-video, h100-video, h200-video, l40s-video\)/);
});
