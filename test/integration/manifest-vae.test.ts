import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../common/rng.ts';
import { decodeTensor, decodeUint8Tensor, encodeTensor, encodeUint8Tensor } from '../../common/tensor-codec.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { DecodeResponse__Output } from '../../common/proto/generated/propeller/v1/DecodeResponse.ts';
import type { EncodeResponse__Output } from '../../common/proto/generated/propeller/v1/EncodeResponse.ts';
import { tileStarts } from '../../worker/inference.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { call, denoiserClient, referenceModelDir, startTestWorker } from '../helpers/servers.ts';

/**
 * The VAE side of a manifest: a denoiser's `scalingFactor` (decoders get
 * latent / factor, encoders give latent * factor) and tiled decoding and
 * encoding (`tile` in the VAE manifests), checked against the untiled
 * reference pair on a real worker.
 */
const FACTOR = 0.5;
let worker: WorkerHandle;
let client: DenoiserServiceClient;

before(async () => {
  const ref = await referenceModelDir();
  const root = mkdtempSync(join(tmpdir(), 'propeller-vae-'));
  const copy = (from: string, to: string, edit: (m: Record<string, unknown>) => void) => {
    mkdirSync(join(root, to));
    copyFileSync(join(ref, from, 'model.onnx'), join(root, to, 'model.onnx'));
    const m = JSON.parse(readFileSync(join(ref, from, 'manifest.json'), 'utf8'));
    m.name = to;
    edit(m);
    writeFileSync(join(root, to, 'manifest.json'), JSON.stringify(m));
  };
  copy('field-mixture', 'scaled-mixture', (m) => Object.assign(m, { scalingFactor: FACTOR, decoder: 'tiled-decoder', encoder: 'tiled-encoder' }));
  copy('field-decoder', 'tiled-decoder', (m) => (m['tile'] = { size: 16, overlap: 6 }));
  copy('field-encoder', 'tiled-encoder', (m) => (m['tile'] = { size: 16, overlap: 6 }));
  worker = await startTestWorker({ modelDirs: [ref, root] });
  client = denoiserClient(worker.address);
});

after(async () => {
  client.close();
  await worker.drain();
});

const decode = (model: string, data: Float32Array, shape: number[]) =>
  call<object, DecodeResponse__Output>(client.Decode.bind(client), { model, latents: encodeTensor(data, shape, 'float32') }).then((r) => decodeUint8Tensor(r.frames, 'frames'));
const encode = (model: string, data: Uint8Array, shape: number[]) =>
  call<object, EncodeResponse__Output>(client.Encode.bind(client), { model, frames: encodeUint8Tensor(data, shape) }).then((r) => decodeTensor(r.latents, 'latents'));

test('vae - tile starts cover the axis, the last snapped to the end', () => {
  assert.deepEqual(tileStarts(40, 16, 6), [0, 10, 20, 24]);
  assert.deepEqual(tileStarts(16, 16, 6), [0]);
  assert.deepEqual(tileStarts(10, 16, 6), [0]);
});

test('vae - the scaling factor divides latents before a tiled decode; the result matches the whole-frame decode', async () => {
  // A smooth latent (what a denoiser produces), 2 frames of 4 x 40 x 44.
  const shape = [2, 4, 40, 44];
  const z = new Float32Array(2 * 4 * 40 * 44);
  const rng = new Rng(5);
  const phases = Array.from({ length: 8 }, () => rng.uniform() * 6.28);
  for (let i = 0; i < z.length; i++) {
    const x = i % 44;
    const y = Math.floor(i / 44) % 40;
    const c = Math.floor(i / (44 * 40)) % 4;
    z[i] = 0.6 * Math.sin(x / 5 + phases[c]!) * Math.cos(y / 7 + phases[c + 4]!);
  }
  const whole = await decode('field-mixture', z, shape);
  const scaled = await decode('scaled-mixture', z.map((v) => v * FACTOR), shape);
  assert.deepEqual(scaled.shape, whole.shape);
  let sum = 0;
  let worst = 0;
  for (let i = 0; i < whole.data.length; i++) {
    const d = Math.abs(whole.data[i]! - scaled.data[i]!);
    sum += d;
    worst = Math.max(worst, d);
  }
  assert.ok(sum / whole.data.length < 0.5, `mean |diff| ${sum / whole.data.length} of 255`);
  assert.ok(worst <= 8, `max |diff| ${worst} of 255`);

  // Encoding multiplies by the factor, tiled likewise.
  const latents = await encode('field-mixture', whole.data, whole.shape);
  const scaledLatents = await encode('scaled-mixture', whole.data, whole.shape);
  let err = 0;
  for (let i = 0; i < latents.data.length; i++) err = Math.max(err, Math.abs(scaledLatents.data[i]! - FACTOR * latents.data[i]!));
  assert.ok(err < 1e-4, `encode max error ${err}`);
});
