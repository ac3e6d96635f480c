import { InvalidArgumentError } from '../common/errors.ts';
import type { DenoiserManifest, TextEncoderManifest } from '../common/manifest.ts';
import type { DenoiseInput, WeightedPrompt } from './denoise-input.ts';
import type { ModelRunner } from './inference.ts';

/**
 * Prompts -> embeddings on the worker, for denoisers whose `embeddings`
 * conditioning names a `textEncoder` and jobs that upload no embeddings
 * (EvaluateItem `prompts` and `negative_prompts`, as text). Each distinct
 * prompt is tokenized and encoded once per worker (LRU cache), and an
 * item's embedding is the weighted mix of its prompts' embeddings.
 */

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
 * Fills `cond` (and the guidance's `uncond`) of every item that sent
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
    const key = c.input;
    const mixes = (it: DenoiseInput): WeightedPrompt[][] => [it.prompts.get(key), it.guidance?.negativePrompts.get(key)].filter((p) => p !== undefined);
    if (!items.some((it) => mixes(it).length > 0)) continue;
    const runner = encoderOf(c.textEncoder);
    if (!runner) throw new InvalidArgumentError('model', `text encoder "${c.textEncoder}" of "${m.name}" is not loaded on this worker; upload embeddings as spec.conditioning.${c.from} instead`);
    const te = runner.model.manifest as TextEncoderManifest;
    const store = cache(c.textEncoder);
    // Every distinct prompt once, in one batch.
    const missing = new Set<string>();
    for (const it of items) for (const mix of mixes(it)) for (const p of mix) if (!store.get(p.text)) missing.add(p.text);
    if (missing.size) {
      const texts = [...missing];
      const tokenizer = runner.model.tokenizer!;
      const outs = await runner.textEncode(texts.map((t) => tokenizer.encode(t)));
      texts.forEach((t, i) => store.set(t, outs[i]!));
    }
    const size = te.maxLength * te.hiddenSize;
    const mix = (prompts: readonly WeightedPrompt[]): Float32Array => {
      if (prompts.length === 1) return store.get(prompts[0]!.text)!;
      const out = new Float32Array(size);
      const total = prompts.reduce((a, p) => a + p.weight, 0);
      for (const p of prompts) {
        const e = store.get(p.text)!;
        const w = p.weight / total;
        for (let j = 0; j < size; j++) out[j]! += w * e[j]!;
      }
      return out;
    };
    for (const it of items) {
      const p = it.prompts.get(key);
      if (p) it.cond.set(key, mix(p));
      const n = it.guidance?.negativePrompts.get(key);
      if (n) it.guidance!.uncond.set(key, mix(n));
    }
  }
}
