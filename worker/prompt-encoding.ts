import { InvalidArgumentError } from '../common/errors.ts';
import type { DenoiserManifest, TextEncoderManifest } from '../common/manifest.ts';
import { decodePromptBytes } from '../common/prompt-wire.ts';
import type { DenoiseInput, ItemPrompts } from './denoise-input.ts';
import type { ModelRunner } from './inference.ts';

export type { ItemPrompts } from './denoise-input.ts';

/**
 * Prompts -> embeddings on the worker, for denoisers whose `embeddings`
 * conditioning names a `textEncoder` and jobs that upload no embeddings.
 *
 * Wire form: common/prompt-wire.ts. Each distinct prompt is tokenized and encoded once per worker (LRU cache),
 * and a window's embedding is the weighted mix of its prompts' embeddings.
 */


/** Decodes a prompt tensor's values to its prompts; INVALID_ARGUMENT naming `field` when they are not bytes. */
export function decodePrompts(values: Float32Array, field: string): string[] {
  const texts = decodePromptBytes(values);
  if (!texts) throw new InvalidArgumentError(field, 'must hold UTF-8 bytes (integers 0..255), each prompt ended by 0');
  return texts;
}

/** Per-text-encoder cache of prompt embeddings. */
export class PromptCache {
  private readonly entries = new Map<string, Float32Array>();
  constructor(private readonly capacity = 512) {}

  get(key: string): Float32Array | undefined {
    const v = this.entries.get(key);
    if (v) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, v: Float32Array): void {
    this.entries.set(key, v);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

/**
 * Fills `conditioning` (and the guidance's `uncond`) of every item that sent
 * prompts instead of embeddings, running the text encoders as needed.
 */
export async function resolvePrompts(
  m: DenoiserManifest,
  items: DenoiseInput[],
  encoderOf: (name: string) => ModelRunner | undefined,
  cache: (encoder: string) => PromptCache,
): Promise<void> {
  for (const c of m.conditioning ?? []) {
    if (c.source !== 'embeddings' || !c.textEncoder) continue;
    const wanted = items.some((it) => it.prompts?.has(c.input) || it.guidance?.uncondPrompts?.has(c.input));
    if (!wanted) continue;
    const runner = encoderOf(c.textEncoder);
    if (!runner) throw new InvalidArgumentError('model', `text encoder "${c.textEncoder}" of "${m.name}" is not loaded on this worker; upload embeddings as spec.conditioning.${c.from} instead`);
    const te = runner.model.manifest as TextEncoderManifest;
    const store = cache(c.textEncoder);
    // Every distinct prompt once, in one batch.
    const missing = new Set<string>();
    for (const it of items) {
      for (const t of it.prompts?.get(c.input)?.texts ?? []) if (!store.get(t)) missing.add(t);
      const u = it.guidance?.uncondPrompts?.get(c.input);
      if (u !== undefined && !store.get(u)) missing.add(u);
    }
    if (missing.size) {
      const texts = [...missing];
      const tokenizer = runner.model.tokenizer!;
      const outs = await runner.textEncode(texts.map((t) => tokenizer.encode(t)));
      texts.forEach((t, i) => store.set(t, outs[i]!));
    }
    const size = te.maxLength * te.hiddenSize;
    const mix = (p: ItemPrompts): Float32Array => {
      if (p.texts.length === 1) return store.get(p.texts[0]!)!;
      const out = new Float32Array(size);
      const total = p.weights.reduce((a, b) => a + b, 0);
      p.texts.forEach((t, k) => {
        const e = store.get(t)!;
        const w = p.weights[k]! / total;
        for (let j = 0; j < size; j++) out[j]! += w * e[j]!;
      });
      return out;
    };
    for (const it of items) {
      const p = it.prompts?.get(c.input);
      if (p) it.conditioning = new Map([...(it.conditioning ?? []), [c.input, mix(p)]]);
      const u = it.guidance?.uncondPrompts?.get(c.input);
      if (u !== undefined && it.guidance) it.guidance = { ...it.guidance, uncond: new Map([...it.guidance.uncond, [c.input, store.get(u)!]]) };
    }
  }
}
