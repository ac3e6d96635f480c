import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { encodeTensor, decodeTensor, encodeUint8Tensor } from '../../common/tensor-codec.ts';
import { Rng } from '../../common/rng.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { DecodeResponse__Output } from '../../common/proto/generated/propeller/v1/DecodeResponse.ts';
import type { EncodeResponse__Output } from '../../common/proto/generated/propeller/v1/EncodeResponse.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { call, denoiserClient, referenceModelDir, startTestWorker } from '../helpers/servers.ts';
import { expectCode } from '../helpers/grpc-asserts.ts';

const SHAPE = [4, 16, 32, 32];
const N = 4 * 16 * 32 * 32;
let worker: WorkerHandle;
let client: DenoiserServiceClient;

before(async () => {
  worker = await startTestWorker();
  client = denoiserClient(worker.address);
});

after(async () => {
  client.close();
  await worker.drain();
});

function noise(seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(N));
}

function evaluate(items: unknown[], outputDtype = 'OUTPUT_DTYPE_FLOAT32'): Promise<EvaluateResponse__Output> {
  return call(client.Evaluate.bind(client), { model: 'field-mixture', items, outputDtype } as never);
}

test('worker - Info lists the reference models with manifests', async () => {
  const info = await call<object, InfoResponse__Output>(client.Info.bind(client), {});
  const names = info.models.map((m) => m.name).sort();
  assert.deepEqual(names, ['field-decoder', 'field-encoder', 'field-mixture', 'field-mixture-flow']);
  assert.ok(info.models.every((m) => m.available));
  assert.equal(info.device, 'cpu');
  const fm = JSON.parse(info.models.find((m) => m.name === 'field-mixture')!.manifestJson);
  assert.equal(fm.nativeFrames, 16);
});

test('worker - Evaluate batches items and matches a direct ONNX Runtime run', async () => {
  const x = [noise(1), noise(2), noise(3)];
  const cw = new Float32Array([0, 1, 0, 0, 0, 0]);
  const res = await evaluate(
    x.map((s, i) => ({ sample: encodeTensor(s, SHAPE, 'float32'), timestep: 300 + 100 * i, cond: { class_weights: encodeTensor(cw, [6], 'float32') } })),
  );
  assert.equal(res.outputs.length, 3);
  const session = await ort.InferenceSession.create(join(await referenceModelDir(), 'field-mixture/model.onnx'), { intraOpNumThreads: 1 });
  for (let i = 0; i < 3; i++) {
    const direct = await session.run({
      sample: new ort.Tensor('float32', x[i]!, [1, ...SHAPE]),
      timestep: new ort.Tensor('float32', new Float32Array([300 + 100 * i]), [1]),
      class_weights: new ort.Tensor('float32', cw, [1, 6]),
    });
    const want = direct.epsilon!.data as Float32Array;
    const got = decodeTensor(res.outputs[i], 'out').data;
    let err = 0;
    let norm = 0;
    for (let k = 0; k < N; k++) {
      err += (got[k]! - want[k]!) ** 2;
      norm += want[k]! ** 2;
    }
    assert.ok(Math.sqrt(err / norm) < 1e-5, `item ${i}: batched vs direct relative error ${Math.sqrt(err / norm)}`);
  }
  await session.release();
});

test('worker - float16 outputs by default (half the bytes)', async () => {
  const res = await evaluate([{ sample: encodeTensor(noise(4), SHAPE), timestep: 500, cond: {} }], 'OUTPUT_DTYPE_UNSPECIFIED');
  assert.equal(res.outputs[0]!.dtype, 'float16');
  assert.equal(res.outputs[0]!.data.length, N * 2);
});

test('worker - bad requests get INVALID_ARGUMENT naming the field, and the worker keeps serving', async () => {
  const good = { sample: encodeTensor(noise(5), SHAPE), timestep: 500, cond: {} };
  await expectCode(evaluate([{ ...good, sample: encodeTensor(new Float32Array(4 * 8 * 32 * 32), [4, 8, 32, 32]) }]), grpc.status.INVALID_ARGUMENT, /items\[0\]\.sample\.shape must be 4x16x32x32/);
  await expectCode(evaluate([good, { ...good, timestep: 5000 }]), grpc.status.INVALID_ARGUMENT, /items\[1\]\.timestep/);
  const nan = noise(6);
  nan[77] = NaN;
  await expectCode(evaluate([{ ...good, sample: encodeTensor(nan, SHAPE, 'float32') }]), grpc.status.INVALID_ARGUMENT, /items\[0\]\.sample\.data contains NaN/);
  await expectCode(evaluate([{ ...good, cond: { class_weights: encodeTensor(new Float32Array(3), [3]) } }]), grpc.status.INVALID_ARGUMENT, /class_weights\.shape must be \[6\]/);
  await expectCode(evaluate([{ ...good, sample: { dtype: 'float32', shape: SHAPE, data: Buffer.alloc(10) } }]), grpc.status.INVALID_ARGUMENT, /items\[0\]\.sample\.data has 10 bytes/);
  await expectCode(evaluate([]), grpc.status.INVALID_ARGUMENT, /items is empty/);
  await expectCode(call(client.Evaluate.bind(client), { model: 'nope', items: [good] } as never), grpc.status.NOT_FOUND, /model "nope"/);
  // still serving
  const res = await evaluate([good]);
  assert.equal(res.outputs.length, 1);
});

test('worker - Decode and Encode through the VAE pair', async () => {
  const latents = new Rng(9).fillNormal(new Float32Array(2 * 4 * 8 * 8));
  const dec = await call<object, DecodeResponse__Output>(client.Decode.bind(client), { model: 'field-mixture', latents: encodeTensor(latents, [2, 4, 8, 8], 'float32') });
  assert.equal(dec.frames!.dtype, 'uint8');
  assert.deepEqual(dec.frames!.shape.map(Number), [2, 3, 32, 32]);
  const enc = await call<object, EncodeResponse__Output>(client.Encode.bind(client), { model: 'field-mixture', frames: encodeUint8Tensor(new Uint8Array(dec.frames!.data), [2, 3, 32, 32]) });
  assert.deepEqual(enc.latents!.shape.map(Number), [2, 4, 8, 8]);
});

test('worker - drain refuses new calls with UNAVAILABLE and stops', async () => {
  const w = await startTestWorker();
  const c = denoiserClient(w.address);
  const inflight = call<object, EvaluateResponse__Output>(c.Evaluate.bind(c), {
    model: 'field-mixture',
    items: Array.from({ length: 8 }, (_, i) => ({ sample: encodeTensor(noise(20 + i), SHAPE), timestep: 400, cond: {} })),
  });
  // Drain once the worker has taken the call (a fixed 30 ms sleep raced its arrival on a busy machine).
  while (w.service.counters.calls === 0) await new Promise((r) => setTimeout(r, 1));
  const drained = w.drain();
  assert.equal(w.lifecycle.state, 'draining');
  // the call that was already running finishes
  assert.equal((await inflight).outputs.length, 8);
  await drained;
  assert.equal(w.lifecycle.state, 'stopped');
  c.close();
});
