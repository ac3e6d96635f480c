import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { ensureStandinModels } from '../../models/registry.ts';
import { StandinCluster, relL2 } from '../helpers/standin-cluster.ts';

/**
 * Prompt jobs on a model whose embeddings come from a text encoder on the
 * workers (tiny-unet3d-s with tiny-clip-text), with and without a negative
 * prompt, under classifier-free guidance in one batch (the stand-in's own
 * manifest) and in two batches (the same graph under a manifest that says
 * `two_batches`). Without a negative prompt the unconditional branch is the
 * empty prompt, which once failed at the worker.
 */
const TWO_BATCH = 'tiny-unet3d-s-two-batches';
let cluster: StandinCluster;

/** The stand-in's graph under a second manifest asking for two-batch guidance. */
async function twoBatchVariant(): Promise<string> {
  const [source] = await ensureStandinModels(['tiny-unet3d-s']);
  const dir = join(mkdtempSync(join(tmpdir(), 'propeller-two-batches-')), TWO_BATCH);
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(source!, 'manifest.json'), 'utf8'));
  manifest.name = TWO_BATCH;
  manifest.guidance = { ...manifest.guidance, batching: 'two_batches' };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  symlinkSync(join(source!, manifest.file), join(dir, manifest.file));
  return dir;
}

before(async () => {
  // Latents travel as float32 here: with float16 on the wire, two-batch guidance
  // scales the rounding of both outputs by the guidance scale (relL2 ~2e-3).
  cluster = await StandinCluster.start(['tiny-unet3d-s', 'tiny-clip-text'], { extraDirs: [await twoBatchVariant()], coordinatorArgs: ['--wire-dtype', 'float32'] });
});
after(async () => {
  await cluster?.stop();
});

/** The README's stand-in example: a prompt, no negative prompt, the manifest's default guidance. */
function promptJob(model: string, extra: Partial<JobSpec> = {}): JobSpec {
  return { model, prompt: 'a red fox in snow', frames: 16, height: 64, width: 64, steps: 4, seed: 11, output: { format: 'latent' }, ...extra };
}

for (const model of ['tiny-unet3d-s', TWO_BATCH]) {
  test(`text guidance - ${model}: a prompt without a negative prompt is guided against the empty prompt`, { timeout: 240_000 }, async () => {
    const plain = await cluster.run(promptJob(model));
    assert.equal(plain.state, 'SUCCEEDED', plain.error);
    const empty = await cluster.run(promptJob(model, { negativePrompt: '' }));
    assert.equal(empty.state, 'SUCCEEDED', empty.error);
    const negative = await cluster.run(promptJob(model, { negativePrompt: 'blurry, low quality' }));
    assert.equal(negative.state, 'SUCCEEDED', negative.error);
    const a = await cluster.latent(plain.id);
    assert.ok(a.data.every(Number.isFinite));
    // No negative prompt is the empty one, bit for bit; a real one changes the result.
    assert.equal(relL2((await cluster.latent(empty.id)).data, a.data), 0);
    // (0.018 measured: the random-weight text encoder moves the output a little.)
    const moved = relL2((await cluster.latent(negative.id)).data, a.data);
    assert.ok(moved > 5e-3, `a negative prompt moved the result by relL2 ${moved}`);
  });
}

test('text guidance - one batch and two batches give the same video, with and without a negative prompt', { timeout: 240_000 }, async () => {
  for (const extra of [{}, { negativePrompt: 'blurry, low quality' }, { guidance: 3 }]) {
    const one = await cluster.run(promptJob('tiny-unet3d-s', extra));
    const two = await cluster.run(promptJob(TWO_BATCH, extra));
    assert.equal(one.state, 'SUCCEEDED', one.error);
    assert.equal(two.state, 'SUCCEEDED', two.error);
    const d = relL2((await cluster.latent(two.id)).data, (await cluster.latent(one.id)).data);
    // Bit-identical when measured (0); a bound leaves room for batch-size-dependent kernels.
    assert.ok(d < 1e-5, `${JSON.stringify(extra)}: one vs two batches relL2 ${d}`);
  }
});
