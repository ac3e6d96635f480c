/**
 * CLIP's byte-level BPE tokenizer (as `transformers.CLIPTokenizer`, minus
 * ftfy's mojibake repair): lower-cased, whitespace-collapsed text split by
 * CLIP's pattern, each piece mapped through the byte-to-unicode table, the
 * last symbol marked `</w>`, merged by rank from `merges.txt`, looked up in
 * `vocab.json`; then `<|startoftext|>` ... `<|endoftext|>`, truncated and
 * padded (with the pad token) to the model's length. Text encoders of
 * Stable Diffusion, AnimateDiff and SVD's text paths use exactly this.
 */

import { bytesToUnicode, mergeByRank } from '../common/byte-bpe.ts';

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export interface ClipTokenizerOptions {
  /** token -> id (vocab.json). */
  vocab: Record<string, number>;
  /** merges.txt text (first line may be a `#version` header). */
  merges: string;
  /** Sequence length (77 for CLIP). */
  maxLength: number;
  /** Pad token (CLIP in SD: `<|endoftext|>`; SD 2 / OpenCLIP: `!`). */
  padToken?: string;
}

/** Turns prompts into fixed-length id sequences. */
export class ClipTokenizer {
  private readonly ranks = new Map<string, number>();
  private readonly byteTable = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();
  private readonly bos: number;
  private readonly eos: number;
  private readonly pad: number;

  constructor(private readonly opts: ClipTokenizerOptions) {
    const lines = opts.merges.split('\n').filter((l) => l.trim() && !l.startsWith('#version'));
    lines.forEach((l, i) => this.ranks.set(l.trim(), i));
    this.bos = this.id('<|startoftext|>');
    this.eos = this.id('<|endoftext|>');
    this.pad = this.id(opts.padToken ?? '<|endoftext|>');
  }

  /** Ids [maxLength]: bos, tokens (truncated), eos, then pad. */
  encode(text: string): number[] {
    const ids = [this.bos];
    const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
    for (const piece of clean.match(PATTERN) ?? []) {
      const symbols = [...new TextEncoder().encode(piece)].map((b) => this.byteTable[b]!).join('');
      for (const token of this.bpe(symbols)) ids.push(this.id(token));
    }
    const body = ids.slice(0, this.opts.maxLength - 1);
    body.push(this.eos);
    while (body.length < this.opts.maxLength) body.push(this.pad);
    return body;
  }

  private id(token: string): number {
    const id = this.opts.vocab[token];
    if (id === undefined) throw new Error(`tokenizer: "${token}" is not in vocab.json`);
    return id;
  }

  /** Byte-pair merges of one pre-tokenised word (its last symbol marked `</w>`). */
  private bpe(word: string): string[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = [...word];
    const parts = mergeByRank([...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`], this.ranks);
    if (this.cache.size < 10_000) this.cache.set(word, parts);
    return parts;
  }
}
