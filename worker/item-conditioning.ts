import { InvalidArgumentError, quoteBounded } from '../common/errors.ts';
import { conditioningKey, conditioningShape, type DenoiserManifest } from '../common/manifest.ts';
import type { Tensor__Output } from '../common/proto/generated/propeller/v1/Tensor.ts';
import { decodeTensor } from '../common/tensor-codec.ts';
import type { DenoiseInput } from './inference.ts';
import { PROMPT_WEIGHTS_PREFIX } from '../common/prompt-wire.ts';
import { decodePrompts, type ItemPrompts } from './prompt-encoding.ts';

/**
 * Wire form of an item's extra conditioning (EvaluateItem.conditioning):
 *
 *   "<key>"           the conditional value of a manifest conditioning input
 *                     (key = its graph input, or the job tensor of an image latent)
 *   "uncond:<key>"    its unconditional value for one-batch guidance
 *   "guidance_scale"  [1]: run cond and uncond as one batch and return
 *                     uncond + scale * (cond - uncond)
 *
 * Shapes per item: the manifest's shape; image latents [channels, H, W] at
 * the native window.
 */

/** Prefix of unconditional values on the wire. */
export const UNCOND_PREFIX = 'uncond:';
/** Key of the guidance scale on the wire. */
export const GUIDANCE_SCALE_KEY = 'guidance_scale';

/** Decodes and checks the manifest-declared conditioning of one item; `field` names the item (`items[3]`). */
export function parseItemConditioning(
  m: DenoiserManifest,
  conditioning: Record<string, Tensor__Output>,
  field: string,
): Pick<DenoiseInput, 'conditioning' | 'guidance' | 'prompts'> {
  const specs = new Map((m.conditioning ?? []).map((c) => [conditioningKey(c), c]));
  const cond = new Map<string, Float32Array>();
  const uncond = new Map<string, Float32Array>();
  const prompts = new Map<string, ItemPrompts>();
  const weights = new Map<string, Float32Array>();
  const uncondPrompts = new Map<string, string>();
  let scale: number | undefined;
  for (const [key, tensor] of Object.entries(conditioning)) {
    if (key === 'class_weights') continue; // the caller decodes class weights
    const f = `${field}.conditioning.${key}`;
    // Prompts for a text encoder (prompt-encoding.ts).
    const promptKey = /^(uncond:)?(prompt|prompt_weights):(.+)$/.exec(key);
    if (promptKey) {
      const spec = specs.get(promptKey[3]!);
      if (!spec || spec.source !== 'embeddings' || !spec.textEncoder) throw new InvalidArgumentError(`${field}.conditioning`, `has key ${quoteBounded(key)}, but ${quoteBounded(promptKey[3]!)} names no text encoder in model "${m.name}"'s manifest`);
      const values = decodeTensor(tensor, f, { requireFinite: true, maxElements: 1 << 16 }).data;
      if (promptKey[2] === 'prompt_weights') weights.set(spec.input, values);
      else if (promptKey[1]) uncondPrompts.set(spec.input, decodePrompts(values, f)[0]!);
      else prompts.set(spec.input, { texts: decodePrompts(values, f), weights: [] });
      continue;
    }
    if (key === GUIDANCE_SCALE_KEY) {
      if (!m.guidance) throw new InvalidArgumentError(f, `model "${m.name}" declares no guidance in its manifest`);
      const t = decodeTensor(tensor, f, { requireFinite: true });
      if (t.data.length !== 1 || !(t.data[0]! >= 0)) throw new InvalidArgumentError(f, 'must be one non-negative number');
      scale = t.data[0]!;
      continue;
    }
    const isUncond = key.startsWith(UNCOND_PREFIX);
    const base = isUncond ? key.slice(UNCOND_PREFIX.length) : key;
    const spec = specs.get(base);
    if (!spec) {
      const known = ['class_weights', ...specs.keys(), ...(m.guidance ? [GUIDANCE_SCALE_KEY] : [])];
      throw new InvalidArgumentError(`${field}.conditioning`, `has unknown key ${quoteBounded(key)} (known: ${known.join(', ') || 'none'})`);
    }
    const want = spec.source === 'image_latent' ? [spec.channels, m.nativeHeight, m.nativeWidth] : conditioningShape(spec);
    const t = decodeTensor(tensor, f, { requireFinite: true });
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new InvalidArgumentError(`${f}.shape`, `must be [${want.join(', ')}], got [${t.shape.join(', ')}]`);
    }
    (isUncond ? uncond : cond).set(base, t.data);
  }
  for (const [input, p] of prompts) {
    const w = weights.get(input);
    if (w && w.length !== p.texts.length) throw new InvalidArgumentError(`${field}.conditioning.${PROMPT_WEIGHTS_PREFIX}${input}`, `has ${w.length} weights for ${p.texts.length} prompts`);
    if (w && (w.some((v) => v < 0) || w.every((v) => v === 0))) throw new InvalidArgumentError(`${field}.conditioning.${PROMPT_WEIGHTS_PREFIX}${input}`, 'must be non-negative and not all zero');
    p.weights = w ? Array.from(w) : p.texts.map(() => 1);
  }
  for (const [key, spec] of specs) {
    // Embeddings (or their prompts) and time ids are graph inputs: required. A missing image latent is zeros.
    if (spec.source !== 'image_latent' && !cond.has(key) && !prompts.has(key)) throw new InvalidArgumentError(`${field}.conditioning.${key}`, 'is missing');
  }
  if ((uncond.size > 0 || uncondPrompts.size > 0) && scale === undefined) throw new InvalidArgumentError(`${field}.conditioning.${GUIDANCE_SCALE_KEY}`, `is missing (needed with ${UNCOND_PREFIX} values)`);
  return {
    conditioning: cond.size > 0 ? cond : undefined,
    guidance: scale === undefined ? undefined : { scale, uncond, ...(uncondPrompts.size ? { uncondPrompts } : {}) },
    ...(prompts.size ? { prompts } : {}),
  };
}
