import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TINY_UNET3D } from '../../models/tiny-unet3d/build.ts';
import { StandinCluster, randomTensor, relL2 } from '../helpers/standin-cluster.ts';

/**
 * tiny-unet3d-m (the size with realistic compute per window, ~0.2 s on one
 * CPU thread) end to end: two worker processes, a 32-frame job of 3
 * temporal chunks at its native 32x32 latent, Picard against sequential.
 * Kept to 3 steps without guidance so it costs seconds.
 */
const M = TINY_UNET3D.m;
let cluster: StandinCluster;

before(async () => {
  cluster = await StandinCluster.start(['tiny-unet3d-m']);
});
after(async () => {
  await cluster?.stop();
});

function job(sampler: 'sequential' | 'picard') {
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
    sampler: sampler === 'picard' ? { kind: 'picard', window: 3, tolerance: 0.002 } : { kind: 'sequential' },
    output: { format: 'latent' },
    conditioning: { prompt_embeds: randomTensor(4, [M.textTokens, M.textDim]) },
  };
}

test('standin tiny-unet3d-m - 3 chunks through the cluster, Picard matches sequential', { timeout: 300_000 }, async () => {
  const seq = await cluster.run(job('sequential'));
  assert.equal(seq.state, 'SUCCEEDED', seq.error);
  assert.equal(Number(seq.progress!.evaluations), 3 * 3);
  const pic = await cluster.run(job('picard'));
  assert.equal(pic.state, 'SUCCEEDED', pic.error);
  const a = await cluster.latent(seq.id);
  const b = await cluster.latent(pic.id);
  assert.deepEqual(a.shape, [M.channels, 32, M.height, M.width]);
  assert.ok(a.data.every(Number.isFinite) && b.data.every(Number.isFinite));
  const d = relL2(b.data, a.data);
  assert.ok(d < 0.05, `Picard vs sequential relL2 ${d}`);
});
