/**
 * Prompts on the Evaluate wire, for denoisers whose embeddings come from a
 * text encoder on the workers (manifest `conditioning[].textEncoder`). They
 * travel as conditioning tensors like everything else a window needs:
 *
 *   "prompt:<input>"          UTF-8 bytes of one or more prompts, separated by 0
 *   "prompt_weights:<input>"  [K] mixing weights of those prompts (default: equal)
 *   "uncond:prompt:<input>"   the negative prompt, for one-batch guidance
 *
 * (byte values 0..255 are exact in float16, the wire's latent dtype).
 */

export const PROMPT_PREFIX = 'prompt:';
export const PROMPT_WEIGHTS_PREFIX = 'prompt_weights:';
export const UNCOND_PROMPT_PREFIX = 'uncond:prompt:';

/** Prompts -> the byte values sent. */
export function encodePromptBytes(texts: readonly string[]): Float32Array {
  const parts = texts.map((t) => new TextEncoder().encode(t));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1));
  let off = 0;
  parts.forEach((p, i) => {
    if (i > 0) out[off++] = 0;
    out.set(p, off);
    off += p.length;
  });
  return out;
}

/** The byte values received -> prompts; undefined when a value is not a byte. */
export function decodePromptBytes(values: Float32Array): string[] | undefined {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    bytes[i] = v;
  }
  const texts: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0) {
      texts.push(new TextDecoder().decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return texts;
}
