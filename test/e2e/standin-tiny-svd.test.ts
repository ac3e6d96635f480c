import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TINY_SVD } from '../../models/tiny-svd/build.ts';
import { probeVideo } from '../helpers/ffprobe.ts';
import { StandinCluster, randomTensor, relL2 } from '../helpers/standin-cluster.ts';

/**
 * tiny-svd end to end: Stable Video Diffusion's interface (float16,
 * frames-first sample with the conditioning image's latent concatenated on
 * channels, CLIP image embedding, added_time_ids from the job's fps,
 * v-prediction with Karras Euler) over 3 chunks x 2 tiles through two
 * worker processes; Picard against sequential; an MP4 through the decoder.
 */
let cluster: StandinCluster;

before(async () => {
  cluster = await StandinCluster.start(['tiny-svd']);
});
after(async () => {
  await cluster?.stop();
});

function job(sampler: 'sequential' | 'picard', format: 'latent' | 'mp4' = 'latent') {
  return {
    model: 'tiny-svd',
    frames: 16,
    height: 64,
    width: 96,
    fps: 7,
    steps: 5,
    seed: 4,
    layout: { chunkOverlap: 4, tileOverlap: 8 },
    sampler: sampler === 'picard' ? { kind: 'picard', window: 5, tolerance: 0.002 } : { kind: 'sequential' },
    output: { format },
    conditioning: {
      image_embeds: randomTensor(6, [1, TINY_SVD.embedDim]),
      // The conditioning image's latent at the job's latent size (64x96 pixels / 4).
      image_latents: randomTensor(7, [TINY_SVD.imageChannels, 16, 24], 0.5),
    },
  };
}

test('standin tiny-svd - float16, frames-first, image latents and time ids through the cluster; Picard matches sequential', { timeout: 240_000 }, async () => {
  const seq = await cluster.run(job('sequential'));
  assert.equal(seq.state, 'SUCCEEDED', seq.error);
  assert.equal(seq.spec!.scheduler, 'euler');
  assert.equal(Number(seq.progress!.evaluations), 3 * 2 * 5);
  const pic = await cluster.run(job('picard'));
  assert.equal(pic.state, 'SUCCEEDED', pic.error);
  const a = await cluster.latent(seq.id);
  const b = await cluster.latent(pic.id);
  assert.deepEqual(a.shape, [4, 16, 16, 24]);
  assert.ok(a.data.every(Number.isFinite));
  const d = relL2(b.data, a.data);
  assert.ok(d < 0.05, `Picard vs sequential relL2 ${d}`);
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
