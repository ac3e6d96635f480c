import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelManifestSchema, type DenoiserManifest } from '../../common/manifest.ts';
import type { EvaluateItem__Output } from '../../common/proto/generated/propeller/v1/EvaluateItem.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import { fieldMixtureManifest } from '../../models/field-mixture/build.ts';
import { TINY_UNET3D, tinyUnet3dManifest } from '../../models/tiny-unet3d/build.ts';
import { MAX_PROMPTS_PER_MIX, parseItemConditioning } from '../../worker/item-conditioning.ts';

const fm = modelManifestSchema.parse(fieldMixtureManifest()) as DenoiserManifest;
const unet = modelManifestSchema.parse(tinyUnet3dManifest(TINY_UNET3D.s)) as DenoiserManifest;
const text = unet.conditioning!.find((c) => c.source === 'embeddings')!;
const TEXT = text.source === 'embeddings' ? text.shape : [];
const size = TEXT.reduce((p, d) => p * d, 1);

/** An item as grpc-js hands it over (every map present, guidance scale absent). */
function item(fields: Record<string, unknown>): EvaluateItem__Output {
  return { sample: null, timestep: 10, cond: {}, uncond: {}, prompts: {}, negativePrompts: {}, ...fields } as EvaluateItem__Output;
}

const weights = (values: number[]) => encodeTensor(Float32Array.from(values), [values.length], 'float32');
const mix = (...prompts: [string, number][]) => ({ prompts: prompts.map(([t, w]) => ({ text: t, weight: w })) });

test('item conditioning - class weights are one more named tensor: decoded by their graph input, checked like weights', () => {
  const parsed = parseItemConditioning(fm, item({ cond: { class_weights: weights([1, 0, 0, 0, 0, 1]) } }), 'items[0]');
  assert.deepEqual([...parsed.cond.get('class_weights')!], [1, 0, 0, 0, 0, 1]);
  assert.equal(parsed.guidance, undefined);
  // Absent: the runner's uniform default.
  assert.equal(parseItemConditioning(fm, item({}), 'items[0]').cond.size, 0);
  assert.throws(() => parseItemConditioning(fm, item({ cond: { class_weights: weights([1, 2, 3]) } }), 'items[0]'), /^.*items\[0\]\.cond\.class_weights\.shape must be \[6\], got \[3\]/);
  assert.throws(() => parseItemConditioning(fm, item({ cond: { class_weights: weights([1, 0, 0, 0, 0, -1]) } }), 'items[2]'), /items\[2\]\.cond\.class_weights must be finite and non-negative/);
  assert.throws(() => parseItemConditioning(fm, item({ cond: { class_weights: weights([0, 0, 0, 0, 0, 0]) } }), 'items[0]'), /items\[0\]\.cond\.class_weights must not be all zero/);
  assert.throws(() => parseItemConditioning(fm, item({ cond: { class_weights: weights([Number.NaN, 0, 0, 0, 0, 1]) } }), 'items[0]'), /items\[0\]\.cond\.class_weights.*NaN/);
});

test('item conditioning - unknown names, guidance and prompts a model does not take are INVALID_ARGUMENT naming the field', () => {
  assert.throws(() => parseItemConditioning(fm, item({ cond: { junk: weights([1]) } }), 'items[0]'), /items\[0\]\.cond has unknown key "junk"; model "field-mixture" takes class_weights/);
  assert.throws(() => parseItemConditioning(fm, item({ uncond: { junk: weights([1]) } }), 'items[0]'), /items\[0\]\.uncond has unknown key "junk"/);
  assert.throws(() => parseItemConditioning(fm, item({ guidanceScale: 3 }), 'items[1]'), /items\[1\]\.guidance_scale model "field-mixture" declares no guidance/);
  assert.throws(() => parseItemConditioning(fm, item({ prompts: { class_weights: mix(['fire', 1]) } }), 'items[0]'), /items\[0\]\.prompts has key "class_weights", which names no text-encoded input/);
  // Unconditional values without a scale.
  const cond = { encoder_hidden_states: encodeTensor(new Float32Array(size), TEXT, 'float32') };
  assert.throws(() => parseItemConditioning(unet, item({ cond, uncond: cond }), 'items[0]'), /items\[0\]\.guidance_scale is missing/);
  assert.throws(() => parseItemConditioning(unet, item({ cond, negativePrompts: { encoder_hidden_states: mix(['', 1]) } }), 'items[0]'), /items\[0\]\.guidance_scale is missing/);
  assert.throws(() => parseItemConditioning(unet, item({ cond, guidanceScale: Number.NaN }), 'items[0]'), /items\[0\]\.guidance_scale must be a finite non-negative number/);
  assert.throws(() => parseItemConditioning(unet, item({}), 'items[0]'), /items\[0\]\.cond\.encoder_hidden_states is missing/);
});

test('item conditioning - prompts travel as text with weights, negative prompts beside them under guidance', () => {
  const parsed = parseItemConditioning(
    unet,
    item({ prompts: { encoder_hidden_states: mix(['a fox', 0.25], ['café au lait', 0.75]) }, negativePrompts: { encoder_hidden_states: mix(['', 1]) }, guidanceScale: 7.5 }),
    'items[0]',
  );
  assert.deepEqual(parsed.prompts.get('encoder_hidden_states'), [{ text: 'a fox', weight: 0.25 }, { text: 'café au lait', weight: 0.75 }]);
  assert.equal(parsed.guidance!.scale, 7.5);
  assert.deepEqual(parsed.guidance!.negativePrompts.get('encoder_hidden_states'), [{ text: '', weight: 1 }]);
  assert.equal(parsed.guidance!.uncond.size, 0);
  const prompts = (m: ReturnType<typeof mix>) => item({ prompts: { encoder_hidden_states: m } });
  assert.throws(() => parseItemConditioning(unet, prompts(mix()), 'items[0]'), new RegExp(`items\\[0\\]\\.prompts\\.encoder_hidden_states\\.prompts must hold 1 to ${MAX_PROMPTS_PER_MIX} prompts, got 0`));
  assert.throws(() => parseItemConditioning(unet, prompts(mix(['a', 0], ['b', 0])), 'items[0]'), /prompts\.encoder_hidden_states\.prompts\.weight must not be all zero/);
  assert.throws(() => parseItemConditioning(unet, prompts(mix(['a', -1], ['b', 2])), 'items[0]'), /must be finite and non-negative/);
});
