import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { modelManifestSchema, type DenoiserManifest } from '../../common/manifest.ts';
import { Rng } from '../../common/rng.ts';
import { decodeTensor, encodeTensor } from '../../common/tensor-codec.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import { buildReferenceModel, ensureStandinModels } from '../../models/registry.ts';
import { TINY_UNET3D, buildTinyUnet3dModel } from '../../models/tiny-unet3d/build.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { call, denoiserClient, referenceModelDir, startTestWorker } from '../helpers/servers.ts';

const S = TINY_UNET3D.s;
const SHAPE = [S.channels, S.frames, S.height, S.width];
const N = SHAPE.reduce((p, d) => p * d, 1);
const TEXT = [S.textTokens, S.textDim];
let worker: WorkerHandle;
let client: DenoiserServiceClient;

before(async () => {
  worker = await startTestWorker({ modelDirs: [await referenceModelDir(), ...(await ensureStandinModels(['tiny-unet3d-s']))] });
  client = denoiserClient(worker.address);
});

after(async () => {
  client.close();
  await worker.drain();
});

function normals(seed: number, n: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n));
}

function evaluate(items: unknown[]): Promise<EvaluateResponse__Output> {
  return call(client.Evaluate.bind(client), { model: 'tiny-unet3d-s', items, outputDtype: 'OUTPUT_DTYPE_FLOAT32' } as never);
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

test('tiny-unet3d - the build is deterministic and the manifest describes a UNet3D with text cross-attention', () => {
  const a = buildTinyUnet3dModel(S);
  const b = buildTinyUnet3dModel(S);
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  const { manifest } = buildReferenceModel('tiny-unet3d-s');
  const m = modelManifestSchema.parse(manifest) as DenoiserManifest;
  assert.equal(m.name, 'tiny-unet3d-s');
  assert.equal(m.output, 'noise_pred');
  assert.deepEqual(m.conditioning, [{ source: 'embeddings', input: 'encoder_hidden_states', from: 'prompt_embeds', negativeFrom: 'negative_prompt_embeds', shape: TEXT, textEncoder: 'tiny-clip-text' }]);
  assert.equal(m.guidance?.batching, 'one_batch');
  assert.equal(buildReferenceModel('tiny-unet3d-m').manifest.name, 'tiny-unet3d-m');
});

test('tiny-unet3d - a worker serves it with encoder_hidden_states; outputs are finite and O(1) at every noise level', async () => {
  const info = await call<object, InfoResponse__Output>(client.Info.bind(client), {});
  const entry = info.models.find((m) => m.name === 'tiny-unet3d-s');
  assert.ok(entry?.available, entry?.reason);
  const text = normals(7, TEXT[0]! * TEXT[1]!);
  for (const t of [999, 500, 1]) {
    const res = await evaluate([{ sample: encodeTensor(normals(t, N), SHAPE, 'float32'), timestep: t, cond: { encoder_hidden_states: encodeTensor(text, TEXT, 'float32') } }]);
    const out = decodeTensor(res.outputs[0], 'out');
    assert.deepEqual(out.shape, SHAPE);
    const r = rms(out.data);
    assert.ok(Number.isFinite(r) && r > 0.01 && r < 3, `rms ${r} at t=${t}`);
  }
});

test('tiny-unet3d - the text embeddings change the output (cross-attention is live)', async () => {
  const sample = encodeTensor(normals(1, N), SHAPE, 'float32');
  const outs = [];
  for (const seed of [11, 12]) {
    const res = await evaluate([{ sample, timestep: 400, cond: { encoder_hidden_states: encodeTensor(normals(seed, TEXT[0]! * TEXT[1]!), TEXT, 'float32') } }]);
    outs.push(decodeTensor(res.outputs[0], 'out').data);
  }
  let diff = 0;
  for (let i = 0; i < N; i++) diff += Math.abs(outs[0]![i]! - outs[1]![i]!);
  assert.ok(diff / N > 1e-4, `mean |diff| ${diff / N}`);
});

test('tiny-unet3d - one-batch guidance returns uncond + scale * (cond - uncond)', async () => {
  const sample = encodeTensor(normals(2, N), SHAPE, 'float32');
  const cond = encodeTensor(normals(21, TEXT[0]! * TEXT[1]!), TEXT, 'float32');
  const neg = encodeTensor(normals(22, TEXT[0]! * TEXT[1]!), TEXT, 'float32');
  const [c, u, g] = await Promise.all([
    evaluate([{ sample, timestep: 300, cond: { encoder_hidden_states: cond } }]),
    evaluate([{ sample, timestep: 300, cond: { encoder_hidden_states: neg } }]),
    evaluate([{ sample, timestep: 300, cond: { encoder_hidden_states: cond }, uncond: { encoder_hidden_states: neg }, guidanceScale: 5 }]),
  ]);
  const cd = decodeTensor(c.outputs[0], 'c').data;
  const ud = decodeTensor(u.outputs[0], 'u').data;
  const gd = decodeTensor(g.outputs[0], 'g').data;
  let worst = 0;
  for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(gd[i]! - (ud[i]! + 5 * (cd[i]! - ud[i]!))));
  assert.ok(worst < 1e-3, `max error ${worst}`);
});

test('tiny-unet3d - a missing or misshapen conditioning tensor is INVALID_ARGUMENT naming the field', async () => {
  const sample = encodeTensor(normals(3, N), SHAPE, 'float32');
  await assert.rejects(evaluate([{ sample, timestep: 10, cond: {} }]), /items\[0\]\.cond\.encoder_hidden_states is missing/);
  await assert.rejects(
    evaluate([{ sample, timestep: 10, cond: { encoder_hidden_states: encodeTensor(new Float32Array(8), [2, 4], 'float32') } }]),
    /items\[0\]\.cond\.encoder_hidden_states\.shape must be \[77, 128\]/,
  );
});
