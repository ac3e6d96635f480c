import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TINY_UNET3D } from '../../models/tiny-unet3d/build.ts';
import { StandinCluster, randomTensor } from '../helpers/standin-cluster.ts';
import { picardMatchesSequential, samplerSpec, type SamplerChoice } from '../helpers/standin-picard.ts';

/**
 * tiny-unet3d-m (the size with realistic compute per window, ~0.2 s on one
 * CPU thread) end to end: two worker processes, a 32-frame job of 3
 * temporal chunks at its native 32x32 latent, Picard against sequential.
 * Kept to 3 steps without guidance so it costs seconds.
 */
const M = TINY_UNET3D.m;
const cluster = StandinCluster.forFile(['tiny-unet3d-m']);

function job(sampler: SamplerChoice) {
  return {
    model: 'tiny-unet3d-m',
    promptSchedule: [{ fromFrame: 0, prompt: 'waves on a beach' }],
    frames: 32,
    height: M.height * 4,
    width: M.width * 4,
    fps: 8,
    steps: 3,
    seed: 9,
    guidance: 1,
    // 3 chunks of 16 latent frames (starts 0, 8, 16), one tile.
    layout: { chunkOverlap: 8 },
    sampler: samplerSpec(sampler, 3),
    output: { format: 'latent' },
    conditioning: { prompt_embeds: randomTensor(4, [M.textTokens, M.textDim]) },
  };
}

test('standin tiny-unet3d-m - 3 chunks through the cluster, Picard matches sequential', { timeout: 300_000 }, async () => {
  const { seq } = await picardMatchesSequential(cluster, job, [M.channels, 32, M.height, M.width]);
  assert.equal(Number(seq.progress!.evaluations), 3 * 3);
});
