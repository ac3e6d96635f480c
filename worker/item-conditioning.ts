/**
 * Checks and decodes one Evaluate item's conditioning (EvaluateItem `cond`,
 * `uncond`, `guidance_scale`, `prompts`, `negative_prompts`) against the
 * model's manifest: every tensor must name one of the model's inputs and
 * have its shape and finite values; prompts must name an embeddings input a
 * text encoder makes; guidance only for models that declare it. Every
 * error is INVALID_ARGUMENT naming the field (`items[3].cond.class_weights.shape`).
 */
import { InvalidArgumentError, quoteBounded } from '../common/errors.ts';
import { conditioningKey, conditioningShape, type DenoiserManifest } from '../common/manifest.ts';
import type { EvaluateItem__Output } from '../common/proto/generated/propeller/v1/EvaluateItem.ts';
import type { PromptMix__Output } from '../common/proto/generated/propeller/v1/PromptMix.ts';
import type { Tensor__Output } from '../common/proto/generated/propeller/v1/Tensor.ts';
import { decodeTensor } from '../common/tensor-codec.ts';
import type { DenoiseInput, WeightedPrompt } from './denoise-input.ts';

/** Most prompts one text-encoder input may mix (a window spans a few prompt-schedule segments). */
export const MAX_PROMPTS_PER_MIX = 64;

/** What the manifest says of one conditioning input. */
interface InputSpec {
  /** Per-item shape. */
  shape: number[];
  /** Required in the conditional branch (as a tensor, or as prompts when `encodable`). */
  required: boolean;
  /** An embeddings input a text encoder on the worker can make from prompts. */
  encodable: boolean;
  /** Class weights: non-negative and not all zero. */
  weights: boolean;
}

/** The model's conditioning inputs by key: class weights (under their graph input) and the manifest's `conditioning`. */
export function conditioningSpecs(m: DenoiserManifest): Map<string, InputSpec> {
  const specs = new Map<string, InputSpec>();
  if (m.inputs.classWeights) specs.set(m.inputs.classWeights, { shape: [m.classes.length], required: false, encodable: false, weights: true });
  for (const c of m.conditioning ?? []) {
    // Embeddings (or their prompts) and time ids are graph inputs: required. A missing image latent is zeros.
    specs.set(conditioningKey(c), {
      shape: c.source === 'image_latent' ? [c.channels, m.nativeHeight, m.nativeWidth] : conditioningShape(c),
      required: c.source !== 'image_latent',
      encodable: c.source === 'embeddings' && !!c.textEncoder,
      weights: false,
    });
  }
  return specs;
}

/** Decodes and checks the conditioning of one item; `field` names the item (`items[3]`). */
export function parseItemConditioning(m: DenoiserManifest, item: EvaluateItem__Output, field: string): Pick<DenoiseInput, 'cond' | 'prompts' | 'guidance'> {
  const specs = conditioningSpecs(m);
  const cond = decodeTensors(m, specs, item.cond, `${field}.cond`);
  const prompts = decodePrompts(m, specs, item.prompts, `${field}.prompts`);
  const uncond = decodeTensors(m, specs, item.uncond, `${field}.uncond`);
  const negativePrompts = decodePrompts(m, specs, item.negativePrompts, `${field}.negative_prompts`);
  for (const [key, spec] of specs) {
    if (spec.required && !cond.has(key) && !prompts.has(key)) throw new InvalidArgumentError(`${field}.cond.${key}`, 'is missing');
  }
  const scale = item.guidanceScale ?? undefined;
  if (scale === undefined) {
    if (uncond.size > 0 || negativePrompts.size > 0) throw new InvalidArgumentError(`${field}.guidance_scale`, 'is missing (needed with uncond values or negative prompts)');
    return { cond, prompts };
  }
  const f = `${field}.guidance_scale`;
  if (!m.guidance) throw new InvalidArgumentError(f, `model "${m.name}" declares no guidance in its manifest`);
  if (!Number.isFinite(scale) || scale < 0) throw new InvalidArgumentError(f, `must be a finite non-negative number, got ${scale}`);
  return { cond, prompts, guidance: { scale, uncond, negativePrompts } };
}

/** Named tensors of one branch, each of its input's shape, finite (class weights: non-negative, not all zero). */
function decodeTensors(m: DenoiserManifest, specs: Map<string, InputSpec>, named: Record<string, Tensor__Output>, field: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [key, tensor] of Object.entries(named)) {
    const spec = specs.get(key);
    if (!spec) throw new InvalidArgumentError(field, `has unknown key ${quoteBounded(key)}; model "${m.name}" takes ${[...specs.keys()].join(', ') || 'none'}`);
    const f = `${field}.${key}`;
    const t = decodeTensor(tensor, f, { requireFinite: true });
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new InvalidArgumentError(`${f}.shape`, `must be [${spec.shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
    if (spec.weights) checkWeights(Array.from(t.data), f);
    out.set(key, t.data);
  }
  return out;
}

/** Prompt mixes of one branch, each for an input a text encoder makes. */
function decodePrompts(m: DenoiserManifest, specs: Map<string, InputSpec>, named: Record<string, PromptMix__Output>, field: string): Map<string, WeightedPrompt[]> {
  const out = new Map<string, WeightedPrompt[]>();
  for (const [key, mix] of Object.entries(named)) {
    if (!specs.get(key)?.encodable) throw new InvalidArgumentError(field, `has key ${quoteBounded(key)}, which names no text-encoded input of model "${m.name}"`);
    const f = `${field}.${key}.prompts`;
    const prompts = mix.prompts.map((p) => ({ text: p.text, weight: p.weight }));
    if (prompts.length === 0 || prompts.length > MAX_PROMPTS_PER_MIX) throw new InvalidArgumentError(f, `must hold 1 to ${MAX_PROMPTS_PER_MIX} prompts, got ${prompts.length}`);
    checkWeights(prompts.map((p) => p.weight), `${f}.weight`);
    out.set(key, prompts);
  }
  return out;
}

/** Mixing weights: finite, non-negative, not all zero. */
function checkWeights(weights: readonly number[], field: string): void {
  if (weights.some((v) => !Number.isFinite(v) || v < 0)) throw new InvalidArgumentError(field, 'must be finite and non-negative');
  if (weights.every((v) => v === 0)) throw new InvalidArgumentError(field, 'must not be all zero');
}
