import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TINY_UNET3D } from '../../models/tiny-unet3d/build.ts';
import { promptSwitch } from '../helpers/cluster.ts';
import { probeVideo } from '../helpers/ffprobe.ts';
import { StandinCluster, randomTensor, relL2 } from '../helpers/standin-cluster.ts';
import { picardMatchesSequential, samplerSpec, type SamplerChoice } from '../helpers/standin-picard.ts';

/**
 * tiny-unet3d-s end to end: a coordinator and two worker processes, a job
 * spanning 3 temporal chunks x 2 spatial tiles, uploaded text embeddings
 * (one per prompt-schedule segment) and negative embeddings with
 * classifier-free guidance in one batch, Picard against sequential sampling;
 * and the same from prompt text, encoded on the workers by tiny-clip-text.
 */
const S = TINY_UNET3D.s;
const TEXT = [S.textTokens, S.textDim];
const cluster = StandinCluster.forFile(['tiny-unet3d-s', 'tiny-clip-text']);

function job(sampler: SamplerChoice, format: 'latent' | 'mp4') {
  return {
    model: 'tiny-unet3d-s',
    promptSchedule: promptSwitch('a red fox', 'a fox in snow', 8),
    frames: 16,
    height: 64,
    width: 96,
    fps: 8,
    steps: 5,
    seed: 3,
    guidance: 4,
    // 3 chunks (latent frame starts 0, 4, 8) x 2 tiles (x starts 0, 8).
    layout: { chunkOverlap: 4, tileOverlap: 8 },
    sampler: samplerSpec(sampler, 5),
    output: { format },
    conditioning: {
      prompt_embeds: randomTensor(1, [2, ...TEXT]),
      negative_prompt_embeds: randomTensor(2, TEXT),
    },
  };
}

test('standin tiny-unet3d - chunks, tiles, per-segment embeddings and guidance: Picard matches sequential through the cluster', { timeout: 240_000 }, async () => {
  const { seq, pic, latent: a } = await picardMatchesSequential(cluster, (sampler) => job(sampler, 'latent'), [S.channels, 16, 16, 24]);
  assert.equal(Number(seq.progress!.evaluations), 3 * 2 * 5);
  let sq = 0;
  for (const v of a.data) sq += v * v;
  const rms = Math.sqrt(sq / a.data.length);
  assert.ok(rms > 0.05 && rms < 5, `latent rms ${rms}`);
  assert.ok(Number(pic.metrics['picard_rounds']) <= 5, `rounds ${pic.metrics['picard_rounds']}`);
});

test('standin tiny-unet3d - an MP4 job renders through the decoder', { timeout: 240_000 }, async () => {
  const done = await cluster.run(job('picard', 'mp4'));
  assert.equal(done.state, 'SUCCEEDED', done.error);
  const out = join(cluster.dir, 'unet3d.mp4');
  await cluster.client.download(done.id, out);
  const probe = await probeVideo(out);
  assert.equal(probe.width, 96);
  assert.equal(probe.height, 64);
  assert.equal(probe.frames, 16);
});

test('standin tiny-unet3d - misshapen embeddings are INVALID_ARGUMENT naming the field', async () => {
  const spec = job('sequential', 'latent');
  await assert.rejects(
    cluster.client.submit({ ...spec, conditioning: { prompt_embeds: randomTensor(1, [3, ...TEXT]) } }),
    /spec\.conditioning\.prompt_embeds\.shape must be \[77, 128\] or \[2, 77, 128\]/,
  );
});

test('standin tiny-unet3d - prompts and a negative prompt encoded by the text encoder on the workers', { timeout: 240_000 }, async () => {
  const textJob = (prompts: [string, string]) => ({
    ...job('sequential', 'latent'),
    conditioning: {},
    promptSchedule: [
      { fromFrame: 0, prompt: prompts[0] },
      { fromFrame: 8, prompt: prompts[1] },
    ],
    negativePrompt: 'blurry, low quality',
  });
  const a = await cluster.run(textJob(['a red fox running through snow', 'an owl flying at night']));
  assert.equal(a.state, 'SUCCEEDED', a.error);
  assert.equal(a.spec!.negativePrompt, 'blurry, low quality');
  const again = await cluster.run(textJob(['a red fox running through snow', 'an owl flying at night']));
  const other = await cluster.run(textJob(['a red fox running through snow', 'a dragon over the ocean']));
  assert.equal(other.state, 'SUCCEEDED', other.error);
  const la = await cluster.latent(a.id);
  assert.ok(la.data.every(Number.isFinite));
  // Deterministic (cached encodings give the same numbers), and the prompts matter.
  assert.equal(relL2((await cluster.latent(again.id)).data, la.data), 0);
  assert.ok(relL2((await cluster.latent(other.id)).data, la.data) > 1e-3);
});
