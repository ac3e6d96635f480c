import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelManifestSchema } from '../../common/manifest.ts';
import { Rng } from '../../common/rng.ts';
import { FIELD_COMPONENTS } from '../../models/field-mixture/components.ts';
import { samplePrior } from '../../models/field-mixture/reference.ts';
import {
  buildFieldDecoderModel,
  buildFieldEncoderModel,
  fieldDecoderManifest,
  fieldEncoderManifest,
} from '../../models/field-vae/build.ts';
import { colourToLatent, DECODER_MATRIX, encoderMatrix, latentToColour } from '../../models/field-vae/colour-map.ts';

/** Latent frame f of a [4, 16, 32, 32] window as [1, 4, 32, 32]. */
function frameOf(window: Float32Array, f: number): Float32Array {
  const out = new Float32Array(4 * 32 * 32);
  for (let c = 0; c < 4; c++) out.set(window.subarray((c * 16 + f) * 1024, (c * 16 + f + 1) * 1024), c * 1024);
  return out;
}

/** 4x4 block average of [B, C, H, W]. */
function pool4(x: Float32Array, B: number, C: number, H: number, W: number): Float32Array {
  const [h, w] = [H / 4, W / 4];
  const out = new Float32Array(B * C * h * w);
  for (let p = 0; p < B * C; p++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) out[(p * h + Math.floor(y / 4)) * w + Math.floor(xx / 4)]! += x[(p * H + y) * W + xx]! / 16;
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('field-vae - decoder and encoder', () => {
  let decoder: ort.InferenceSession;
  let encoder: ort.InferenceSession;

  const decode = async (z: Float32Array, dims: number[]): Promise<ort.Tensor> =>
    (await decoder.run({ latent: new ort.Tensor('float32', z, dims) }))['rgb']!;
  const encode = async (rgb: Float32Array, dims: number[]): Promise<ort.Tensor> =>
    (await encoder.run({ rgb: new ort.Tensor('float32', rgb, dims) }))['latent']!;

  before(async () => {
    decoder = await ort.InferenceSession.create(buildFieldDecoderModel(), { intraOpNumThreads: 1 });
    encoder = await ort.InferenceSession.create(buildFieldEncoderModel(), { intraOpNumThreads: 1 });
  });

  after(async () => {
    await decoder?.release();
    await encoder?.release();
  });

  it('manifests parse and match the graph names', () => {
    const dec = modelManifestSchema.parse(fieldDecoderManifest());
    const enc = modelManifestSchema.parse(fieldEncoderManifest());
    assert.equal(dec.kind, 'decoder');
    assert.equal(enc.kind, 'encoder');
    assert.deepEqual([dec.input, dec.output, dec.spatialScale, dec.latentChannels], ['latent', 'rgb', 4, 4]);
    assert.deepEqual([enc.input, enc.output, enc.spatialScale, enc.latentChannels], ['rgb', 'latent', 4, 4]);
    assert.deepEqual(decoder.inputNames, ['latent']);
    assert.deepEqual(decoder.outputNames, ['rgb']);
    assert.deepEqual(encoder.inputNames, ['rgb']);
    assert.deepEqual(encoder.outputNames, ['latent']);
  });

  it('decodes any latent size to 4x RGB in [0, 1], and encodes back to the latent grid', async () => {
    const rng = new Rng(1);
    const z = Float32Array.from({ length: 2 * 4 * 5 * 7 }, () => 4 * rng.normal());
    const rgb = await decode(z, [2, 4, 5, 7]);
    assert.deepEqual(rgb.dims, [2, 3, 20, 28]);
    const data = rgb.data as Float32Array;
    assert.ok(data.every((v) => v >= 0 && v <= 1));
    assert.ok(data.some((v) => v === 0) && data.some((v) => v === 1), 'large latents clip');
    const back = await encode(data, [2, 3, 20, 28]);
    assert.deepEqual(back.dims, [2, 4, 5, 7]);
  });

  it('constant latents decode to sigmoid(D z), and each component heat channel runs through its named palette', async () => {
    const colours = new Map<string, number[][]>();
    for (const comp of FIELD_COMPONENTS) {
      // Dark end, mean and bright end of the heat channel (mean -1.5, 0, +1.5 std), as 2x2 constant latents.
      const palette: number[][] = [];
      for (const k of [-1.5, 0, 1.5]) {
        const z = [comp.mean[0], comp.mean[1], comp.mean[2], comp.mean[3] + k * comp.std[3]];
        const flat = new Float32Array(4 * 2 * 2);
        for (let c = 0; c < 4; c++) flat.fill(z[c]!, c * 4, c * 4 + 4);
        const rgb = (await decode(flat, [1, 4, 2, 2])).data as Float32Array;
        const colour = [rgb[0]!, rgb[64]!, rgb[128]!];
        assert.ok(maxAbsDiff(colour, latentToColour(z)) < 1e-6, comp.name);
        palette.push(colour);
      }
      colours.set(comp.name, palette);
    }
    const [R, G, B] = [0, 1, 2];
    const [dark, mid, bright] = [0, 1, 2];
    const c = (name: string, at: number): number[] => colours.get(name)![at]!;
    assert.ok(c('clouds', mid)[B]! > 0.9 && c('clouds', mid)[R]! < 0.5 && c('clouds', bright).every((v) => v > 0.8), 'clouds: blue sky, white billows');
    assert.ok(c('fire', dark)[R]! < 0.2 && c('fire', mid)[R]! > 0.6 && c('fire', mid)[G]! < 0.3, 'fire: black to red');
    assert.ok(c('fire', bright)[R]! > 0.9 && c('fire', bright)[G]! > 0.6 && c('fire', bright)[B]! < 0.3, 'fire: yellow flames');
    assert.ok(c('ocean', dark).every((v) => v < 0.25) && c('ocean', mid)[B]! > c('ocean', mid)[G]! && c('ocean', mid)[G]! > c('ocean', mid)[R]!, 'ocean: deep blue');
    assert.ok(c('ocean', bright)[B]! > 0.85 && c('ocean', bright)[G]! > 0.7, 'ocean: light crests');
    assert.ok(c('aurora', dark).every((v) => v < 0.05) && c('aurora', bright)[G]! > 0.7 && c('aurora', bright)[G]! > 3 * c('aurora', bright)[R]!, 'aurora: green on a black sky');
    assert.ok(c('lava', dark).every((v) => v < 0.1) && c('lava', bright)[R]! > 0.9 && c('lava', bright)[G]! < 0.5, 'lava: black crust, glowing orange-red');
    for (const at of [dark, mid, bright]) assert.ok(c('forest', at)[G]! > 2 * Math.max(c('forest', at)[R]!, c('forest', at)[B]!), 'forest: greens');
    const names = [...colours.keys()];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const d = Math.hypot(...c(names[i]!, mid).map((v, k) => v - c(names[j]!, mid)[k]!));
        assert.ok(d > 0.15, `${names[i]} and ${names[j]} look alike (${d})`);
      }
    }
  });

  it('the encoder matrix is a right inverse of the colour map onto zero-sum hues', () => {
    const E = encoderMatrix();
    // D E = I: every colour comes back exactly; E's latents have z_0 + z_1 + z_2 = 0.
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const v = DECODER_MATRIX[i]!.reduce((s, d, c) => s + d * E[c]![j]!, 0);
        assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-12);
      }
      assert.ok(Math.abs(E[0]![i]! + E[1]![i]! + E[2]![i]!) < 1e-12);
    }
    const rgb = [0.2, 0.7, 0.4];
    assert.ok(maxAbsDiff(latentToColour(colourToLatent(rgb)), rgb) < 1e-12);
    // The components' means are in that subspace, so their mean colours encode back to their means.
    for (const comp of FIELD_COMPONENTS) {
      assert.ok(Math.abs(comp.mean[0] + comp.mean[1] + comp.mean[2]) < 1e-9, comp.name);
      assert.ok(maxAbsDiff(colourToLatent(latentToColour(comp.mean)), comp.mean) < 1e-9, comp.name);
    }
  });

  it('encode(decode(z)) is the projection of z (no clipping)', async () => {
    const E = encoderMatrix();
    const project = (z: ArrayLike<number>): number[] =>
      [0, 1, 2, 3].map((c) => [0, 1, 2].reduce((s, r) => s + E[c]![r]! * DECODER_MATRIX[r]!.reduce((t, d, k) => t + d * z[k]!, 0), 0));
    // Constant latent (in the unclipped range): exact up to float32.
    const zc = [1.2, -0.7, 2.0, 0.5];
    const constant = new Float32Array(4 * 3 * 3);
    for (let c = 0; c < 4; c++) constant.fill(zc[c]!, c * 9, c * 9 + 9);
    const back = (await encode((await decode(constant, [1, 4, 3, 3])).data as Float32Array, [1, 3, 12, 12])).data as Float32Array;
    const p = project(zc);
    for (let c = 0; c < 4; c++) for (let i = 0; i < 9; i++) assert.ok(Math.abs(back[c * 9 + i]! - p[c]!) < 1e-5);
    // A prior frame (forest, latent halved so every colour stays well inside (0, 1): nothing clips and
    // the logits keep float32 precision): the upsampling preserves 4x4 block means, so the round trip
    // is the projection.
    const z = frameOf(samplePrior(new Rng(2), 5), 0).map((v) => 0.5 * v);
    const roundTrip = (await encode((await decode(z, [1, 4, 32, 32])).data as Float32Array, [1, 3, 128, 128])).data as Float32Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < 1024; i++) {
      const pz = project([z[i]!, z[1024 + i]!, z[2048 + i]!, z[3072 + i]!]);
      for (let c = 0; c < 4; c++) {
        num += (roundTrip[c * 1024 + i]! - pz[c]!) ** 2;
        den += pz[c]! ** 2;
      }
    }
    assert.ok(Math.sqrt(num / den) < 1e-5, `round trip relative error ${Math.sqrt(num / den)}`);
  });

  it('decode(encode(rgb)) reproduces constant colours and the 4x4 averages of in-range images', async () => {
    const colour = [0.3, 0.6, 0.9];
    const flat = new Float32Array(3 * 16 * 16);
    for (let r = 0; r < 3; r++) flat.fill(colour[r]!, r * 256, r * 256 + 256);
    const again = (await decode((await encode(flat, [1, 3, 16, 16])).data as Float32Array, [1, 4, 4, 4])).data as Float32Array;
    assert.ok(maxAbsDiff(again, flat) < 1e-6);
    // A smooth image well inside [0, 1] (a decoded clouds frame at half contrast), so nothing clips.
    const decoded = (await decode(frameOf(samplePrior(new Rng(3), 0), 5), [1, 4, 32, 32])).data as Float32Array;
    const rgb = decoded.map((v) => 0.25 + 0.5 * v);
    const rt = (await decode((await encode(rgb, [1, 3, 128, 128])).data as Float32Array, [1, 4, 32, 32])).data as Float32Array;
    assert.equal(rt.length, rgb.length);
    const err = maxAbsDiff(pool4(rt, 1, 3, 128, 128), pool4(rgb, 1, 3, 128, 128));
    assert.ok(err < 1e-5, `4x4-averaged round trip max error ${err}`);
    // The decoded image is smooth, not blocky: neighbouring pixels inside a block differ little.
    let jump = 0;
    for (let y = 0; y < 128; y++) for (let x = 0; x + 1 < 128; x++) jump = Math.max(jump, Math.abs(rt[y * 128 + x + 1]! - rt[y * 128 + x]!));
    assert.ok(jump < 0.1, `largest horizontal step ${jump}`);
  });
});
