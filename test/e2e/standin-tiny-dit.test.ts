import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TINY_DIT } from '../../models/tiny-dit/build.ts';
import { StandinCluster, randomTensor } from '../helpers/standin-cluster.ts';
import { picardMatchesSequential, samplerSpec, type SamplerChoice } from '../helpers/standin-picard.ts';

/**
 * tiny-dit end to end: a flow-matching spacetime transformer (flow_euler by
 * default) over 3 chunks x 2 tiles through two worker processes, text
 * embeddings uploaded with the job and guidance in two batches (cond and
 * uncond as separate evaluations, combined by the coordinator); Picard
 * against sequential.
 */
const TEXT = [TINY_DIT.textTokens, TINY_DIT.textDim];
const cluster = StandinCluster.forFile(['tiny-dit']);

function job(sampler: SamplerChoice) {
  return {
    model: 'tiny-dit',
    prompt: 'waves at dusk',
    frames: 16,
    height: 64,
    width: 96,
    fps: 8,
    steps: 5,
    seed: 9,
    layout: { chunkOverlap: 4, tileOverlap: 8 },
    sampler: samplerSpec(sampler, 5),
    output: { format: 'latent' },
    conditioning: { prompt_embeds: randomTensor(5, TEXT) },
  };
}

test('standin tiny-dit - flow matching with two-batch guidance through the cluster; Picard matches sequential', { timeout: 240_000 }, async () => {
  const { seq } = await picardMatchesSequential(cluster, job, [4, 16, 16, 24]);
  assert.equal(seq.spec!.scheduler, 'flow_euler');
  assert.equal(seq.spec!.guidance, 5);
  // Two evaluations (cond, uncond) per window: 3 chunks x 2 tiles x 5 steps x 2.
  assert.equal(Number(seq.progress!.evaluations), 3 * 2 * 5 * 2);
});

test('standin tiny-dit - guidance 1 sends one evaluation per window', { timeout: 120_000 }, async () => {
  const done = await cluster.run({ ...job('sequential'), guidance: 1, steps: 2 });
  assert.equal(done.state, 'SUCCEEDED', done.error);
  assert.equal(Number(done.progress!.evaluations), 3 * 2 * 2);
});

test('standin tiny-dit - missing embeddings or a text negative prompt are INVALID_ARGUMENT naming the field (no text encoder named)', async () => {
  await assert.rejects(cluster.client.submit({ ...job('sequential'), conditioning: {} }), /spec\.conditioning\.prompt_embeds is missing/);
  await assert.rejects(cluster.client.submit({ ...job('sequential'), negativePrompt: 'blurry' }), /spec\.negative_prompt is text/);
});
