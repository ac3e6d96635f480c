import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specFromFlags } from '../../cli/job-spec-flags.ts';
import { modelManifestSchema, type DenoiserManifest } from '../../common/manifest.ts';
import { formatNpy, parseNpy } from '../../common/npy.ts';
import { decodeTensor, encodeTensor } from '../../common/tensor-codec.ts';
import { JobConditioning, inputImageLatent, resolveGuidance, segmentWeights, validateJobConditioning } from '../../coordinator/conditioning/mod.ts';
import type { WindowWork } from '../../coordinator/layout/window-work.ts';
import { tinyDitManifest } from '../../models/tiny-dit/build.ts';
import { tinySvdManifest } from '../../models/tiny-svd/build.ts';

const dit = modelManifestSchema.parse(tinyDitManifest()) as DenoiserManifest;
const svd = modelManifestSchema.parse(tinySvdManifest()) as DenoiserManifest;
const TEXT = [32, 128];
const n = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const ramp = (shape: number[], offset = 0) => Float32Array.from({ length: n(shape) }, (_, i) => i + offset);

test('job tensors - .npy files round-trip (float32) and float16 / float64 arrays are read', () => {
  const data = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
  assert.deepEqual(parseNpy(formatNpy([2, 3], data)), { shape: [2, 3], data });
  // float16 [2]: 1.0 = 0x3c00, -2.0 = 0xc000, hand-written header.
  const header = "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }";
  const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const bytes = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([padded.length, 0]), Buffer.from(padded, 'latin1'), Buffer.from([0x00, 0x3c, 0x00, 0xc0])]);
  assert.deepEqual([...parseNpy(bytes).data], [1, -2]);
  assert.throws(() => parseNpy(Buffer.from('hello world')), /not a \.npy file/);
});

test('job tensors - propeller submit --tensor NAME=FILE.npy uploads the array, --guidance sets the scale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-npy-'));
  const path = join(dir, 'embeds.npy');
  writeFileSync(path, formatNpy(TEXT, ramp(TEXT)));
  const base = { model: 'tiny-dit', frames: '16', height: '64', width: '64', fps: '8', steps: '4', eta: '0', sampler: 'sequential', format: 'latent', priority: '0' };
  const spec = specFromFlags({ ...base, guidance: '6', tensor: [`prompt_embeds=${path}`] });
  assert.equal(spec.guidance, 6);
  const t = decodeTensor(spec.conditioning!['prompt_embeds'] as never, 't');
  assert.deepEqual(t.shape, TEXT);
  assert.equal(t.data[5], 5);
  assert.throws(() => specFromFlags({ ...base, tensor: ['oops'] }), /--tensor "oops" must look like NAME=FILE\.npy/);
});

test('job tensors - Submit checks names and shapes against the manifest, naming the field', () => {
  const ok = validateJobConditioning({ prompt_embeds: encodeTensor(ramp(TEXT), TEXT, 'float32') } as never, dit, 1, { height: 16, width: 16 });
  assert.deepEqual(Object.keys(ok!), ['prompt_embeds']);
  assert.throws(() => validateJobConditioning({} as never, dit, 1, { height: 16, width: 16 }), /spec\.conditioning\.prompt_embeds is missing: model "tiny-dit" needs embeddings for "encoder_hidden_states"/);
  assert.throws(() => validateJobConditioning({ prompt_embeds: encodeTensor(ramp([4, 4]), [4, 4], 'float32') } as never, dit, 2, { height: 16, width: 16 }), /shape must be \[32, 128\] or \[2, 32, 128\]/);
  assert.throws(() => validateJobConditioning({ prompt_embeds: encodeTensor(ramp(TEXT), TEXT, 'float32'), extra: encodeTensor(ramp([1]), [1], 'float32') } as never, dit, 1, { height: 16, width: 16 }), /has unknown tensor "extra"; model "tiny-dit" takes prompt_embeds, negative_prompt_embeds/);
  assert.throws(() => validateJobConditioning({ image_embeds: encodeTensor(ramp([1, 128]), [1, 128], 'float32') } as never, svd, 1, { height: 16, width: 24 }), /spec\.conditioning\.image_latents is missing/);
  assert.equal(resolveGuidance({ guidance: 0, negativePrompt: '' }, dit), 5);
  assert.equal(resolveGuidance({ guidance: 2, negativePrompt: '' }, dit), 2);
  assert.throws(() => resolveGuidance({ guidance: 0.5, negativePrompt: '' }, dit), /spec\.guidance must be in \[1, 50\]/);
});

test('job tensors - per-segment embeddings mix by the window frames; image latents are cropped; time ids take the fps', () => {
  // Segments from pixel frames 0 and 8; a window of latent frames 4..11 is half each.
  assert.deepEqual([...segmentWeights([0, 8], 4, 8, 1)], [0.5, 0.5]);
  assert.deepEqual([...segmentWeights([0, 8], 0, 8, 1)], [1, 0]);
  const two = new Float32Array(2 * n(TEXT));
  two.fill(1, 0, n(TEXT));
  two.fill(3, n(TEXT));
  const stored = validateJobConditioning({ prompt_embeds: encodeTensor(two, [2, ...TEXT], 'float32') } as never, dit, 2, { height: 16, width: 16 });
  const jc = new JobConditioning({ manifest: dit, tensors: stored, guidance: 1, fps: 8, frames: 16, segmentStarts: [0, 8] });
  const w = (f0: number) => ({ index: 0, f0, y0: 0, x0: 0, frames: 8, height: 16, width: 16 });
  assert.equal(jc.forWindow(w(4))!.cond['encoder_hidden_states']!.data[0], 2);
  assert.equal(jc.forWindow(w(8))!.cond['encoder_hidden_states']!.data[0], 3);

  const latents = ramp([4, 16, 24]);
  const svdStored = validateJobConditioning({ image_embeds: encodeTensor(ramp([1, 128]), [1, 128], 'float32'), image_latents: encodeTensor(latents, [4, 16, 24], 'float32') } as never, svd, 1, { height: 16, width: 24 });
  const sc = new JobConditioning({ manifest: svd, tensors: svdStored, guidance: 2.5, fps: 7, frames: 16, segmentStarts: [0] });
  const cond = sc.forWindow({ index: 0, f0: 0, y0: 0, x0: 8, frames: 8, height: 16, width: 16 })!.cond;
  assert.deepEqual([...cond['added_time_ids']!.data].map((v) => Math.round(v * 100) / 100), [6, 127, 0.02]);
  const crop = cond['image_latents']!;
  assert.deepEqual(crop.shape, [4, 16, 16]);
  // Channel 1, row 2, column 3 of the crop = channel 1, row 2, column 11 of the latent.
  assert.equal(crop.data[(1 * 16 + 2) * 16 + 3], latents[(1 * 16 + 2) * 24 + 11]);
  // One batch: the uncond half leaves zeros and unchanged time ids to the worker.
  const guidance = sc.forWindow({ index: 0, f0: 0, y0: 0, x0: 0, frames: 8, height: 16, width: 16 })!.guidance!;
  assert.equal(guidance.scale, 2.5);
  assert.deepEqual(Object.keys(guidance.uncond), []);
});

test('job tensors - two-batch guidance sends cond and uncond and returns uncond + scale * (cond - uncond)', async () => {
  const stored = validateJobConditioning({ prompt_embeds: encodeTensor(new Float32Array(n(TEXT)).fill(1), TEXT, 'float32') } as never, dit, 1, { height: 16, width: 16 });
  const jc = new JobConditioning({ manifest: dit, tensors: stored, guidance: 3, fps: 8, frames: 16, segmentStarts: [0] });
  assert.equal(jc.evaluationsPerItem, 2);
  const window = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };
  const item: WindowWork = { window, sample: new Float32Array(4), timestep: 10, conditioning: jc.forWindow(window) };
  const seen: WindowWork[] = [];
  // A stand-in pool: output = the first embedding value (1 for cond, 0 for the zero uncond), everywhere.
  const outs = await jc.evaluate([item], async (items) => {
    seen.push(...items);
    return items.map((it) => new Float32Array(4).fill(it.conditioning!.cond['encoder_hidden_states']!.data[0]!));
  });
  assert.equal(seen.length, 2);
  assert.deepEqual([...outs[0]!], [3, 3, 3, 3]);
});

test('job tensors - image_to_video: the input image latent (first known frame) stands in for uploaded image latents', () => {
  const dims = { channels: 4, frames: 16, height: 16, width: 24 };
  // A known region of 2 frames over the whole frame: [C, 2, h, w]; frame 0 of channel c holds c + 1.
  const data = new Float32Array(4 * 2 * 16 * 24);
  for (let c = 0; c < 4; c++) data.fill(c + 1, c * 2 * 384, c * 2 * 384 + 384);
  const image = inputImageLatent({ dims, box: { f0: 0, frames: 2, h0: 0, height: 16, w0: 0, width: 24 }, data })!;
  assert.deepEqual(image.shape, [4, 16, 24]);
  assert.deepEqual([0, 1, 2, 3].map((c) => image.data[c * 384 + 5]), [1, 2, 3, 4]);
  // A region that is not the whole frame (expand) gives none.
  assert.equal(inputImageLatent({ dims, box: { f0: 0, frames: 16, h0: 2, height: 12, w0: 0, width: 24 }, data }), undefined);
  // Submit accepts an image_to_video job without image_latents; the windows get crops of the input's latent.
  const stored = validateJobConditioning({ image_embeds: encodeTensor(ramp([1, 128]), [1, 128], 'float32') } as never, svd, 1, { height: 16, width: 24 }, { imageFromInput: true });
  const jc = new JobConditioning({ manifest: svd, tensors: stored, guidance: 1, fps: 7, frames: 16, segmentStarts: [0], inputImage: image });
  const crop = jc.forWindow({ index: 0, f0: 0, y0: 0, x0: 8, frames: 8, height: 16, width: 16 })!.cond['image_latents']!;
  assert.deepEqual(crop.shape, [4, 16, 16]);
  assert.equal(crop.data[2 * 256 + 7], 3);
  // A model that takes the latent without the VAE scaling factor gets it divided back.
  const unscaledSvd = { ...svd, scalingFactor: 0.5, conditioning: svd.conditioning!.map((c) => (c.source === 'image_latent' ? { ...c, unscaled: true } : c)) };
  const ju = new JobConditioning({ manifest: unscaledSvd, tensors: stored, guidance: 1, fps: 7, frames: 16, segmentStarts: [0], inputImage: image });
  assert.equal(ju.forWindow({ index: 0, f0: 0, y0: 0, x0: 8, frames: 8, height: 16, width: 16 })!.cond['image_latents']!.data[2 * 256 + 7], 6);
});
