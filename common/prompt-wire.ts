/**
 * Prompts on the Evaluate wire, for denoisers whose embeddings come from a
 * text encoder on the workers (manifest `conditioning[].textEncoder`). They
 * travel as conditioning tensors like everything else a window needs:
 *
 *   "prompt:<input>"          UTF-8 bytes of one or more prompts, each ended by 0
 *   "prompt_weights:<input>"  [K] mixing weights of those prompts (default: equal)
 *   "uncond:prompt:<input>"   the negative prompt, for one-batch guidance
 *
 * (byte values 0..255 are exact in float16, the wire's latent dtype). Each
 * prompt ends with a 0 byte rather than being separated by one, so the empty
 * prompt — the unconditional branch of guidance when a job sets no negative
 * prompt — is one byte long: a tensor never has a zero-sized dimension, which
 * the tensor codec rejects.
 */

export const PROMPT_PREFIX = 'prompt:';
export const PROMPT_WEIGHTS_PREFIX = 'prompt_weights:';
export const UNCOND_PROMPT_PREFIX = 'uncond:prompt:';

/** Prompts -> the byte values sent (each prompt's UTF-8 bytes, then 0). */
export function encodePromptBytes(texts: readonly string[]): Float32Array {
  const parts = texts.map((t) => new TextEncoder().encode(t));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length + 1; // the terminating 0 is already there
  }
  return out;
}

/**
 * The byte values received -> prompts; undefined when a value is not a byte
 * or the last prompt is not ended by 0.
 */
export function decodePromptBytes(values: Float32Array): string[] | undefined {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    bytes[i] = v;
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) return undefined;
  const texts: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      texts.push(new TextDecoder().decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return texts;
}
