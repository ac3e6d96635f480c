import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TINY_SVD } from '../../models/tiny-svd/build.ts';
import { readFileSync } from 'node:fs';
import { probeVideo } from '../helpers/ffprobe.ts';
import { syntheticFrame, writeTestPng } from '../helpers/media.ts';
import { StandinCluster, randomTensor, relL2 } from '../helpers/standin-cluster.ts';
import { picardMatchesSequential, samplerSpec, type SamplerChoice } from '../helpers/standin-picard.ts';

/**
 * tiny-svd end to end: Stable Video Diffusion's interface (float16,
 * frames-first sample with the conditioning image's latent concatenated on
 * channels, CLIP image embedding, added_time_ids from the job's fps,
 * v-prediction with Karras Euler) over 3 chunks x 2 tiles through two
 * worker processes; Picard against sequential; an MP4 through the decoder.
 */
const cluster = StandinCluster.forFile(['tiny-svd']);

function job(sampler: SamplerChoice, format: 'latent' | 'mp4' = 'latent') {
  return {
    model: 'tiny-svd',
    frames: 16,
    height: 64,
    width: 96,
    fps: 7,
    steps: 5,
    seed: 4,
    layout: { chunkOverlap: 4, tileOverlap: 8 },
    sampler: samplerSpec(sampler, 5),
    output: { format },
    conditioning: {
      image_embeds: randomTensor(6, [1, TINY_SVD.embedDim]),
      // The conditioning image's latent at the job's latent size (64x96 pixels / 4).
      image_latents: randomTensor(7, [TINY_SVD.imageChannels, 16, 24], 0.5),
    },
  };
}

test('standin tiny-svd - float16, frames-first, image latents and time ids through the cluster; Picard matches sequential', { timeout: 240_000 }, async () => {
  const { seq, latent: a } = await picardMatchesSequential(cluster, (sampler) => job(sampler), [4, 16, 16, 24]);
  assert.equal(seq.spec!.scheduler, 'euler');
  assert.equal(Number(seq.progress!.evaluations), 3 * 2 * 5);
  // The image latent conditions the output: another image, another video.
  const other = await cluster.run({ ...job('sequential'), conditioning: { ...job('sequential').conditioning, image_latents: randomTensor(8, [4, 16, 24], 0.5) } });
  assert.equal(other.state, 'SUCCEEDED', other.error);
  assert.ok(relL2((await cluster.latent(other.id)).data, a.data) > 1e-3);
});

test('standin tiny-svd - an MP4 renders; a misshapen image latent is INVALID_ARGUMENT naming the field', { timeout: 240_000 }, async () => {
  const done = await cluster.run(job('picard', 'mp4'));
  assert.equal(done.state, 'SUCCEEDED', done.error);
  const out = join(cluster.dir, 'svd.mp4');
  await cluster.client.download(done.id, out);
  assert.equal((await probeVideo(out)).frames, 16);
  await assert.rejects(
    cluster.client.submit({ ...job('sequential'), conditioning: { ...job('sequential').conditioning, image_latents: randomTensor(7, [4, 8, 8]) } }),
    /spec\.conditioning\.image_latents\.shape must be \[4, 16, 24\]/,
  );
});

test('standin tiny-svd - image_to_video: the input image, encoded by the VAE on the workers, is the image latent', { timeout: 240_000 }, async () => {
  const spec = (t: number) => {
    const path = join(cluster.dir, `input-${t}.png`);
    writeTestPng(path, syntheticFrame(96, 64, t), 96, 64);
    const base = job('sequential');
    return { ...base, mode: 'image_to_video', input: { data: readFileSync(path), kind: 'image' }, conditioning: { image_embeds: base.conditioning.image_embeds } };
  };
  const a = await cluster.run(spec(0));
  assert.equal(a.state, 'SUCCEEDED', a.error);
  const b = await cluster.run(spec(40));
  assert.equal(b.state, 'SUCCEEDED', b.error);
  const la = await cluster.latent(a.id);
  const lb = await cluster.latent(b.id);
  assert.ok(la.data.every(Number.isFinite));
  // Another picture conditions every frame differently, not only the kept first one.
  const plane = 16 * 24;
  const later = (l: Float32Array) => Float32Array.from({ length: 4 * 15 * plane }, (_, i) => l[Math.floor(i / (15 * plane)) * 16 * plane + plane + (i % (15 * plane))]!);
  assert.ok(relL2(later(lb.data), later(la.data)) > 1e-3);
  // Without an input image (text_to_video), the image latent must be uploaded.
  await assert.rejects(cluster.client.submit({ ...job('sequential'), conditioning: { image_embeds: job('sequential').conditioning.image_embeds } }), /spec\.conditioning\.image_latents is missing/);
});
