/**
 * The two pieces of byte-level BPE (GPT-2 / CLIP) shared by the worker's
 * tokenizer (worker/clip-tokenizer.ts) and the stand-in text encoder's
 * vocabulary builder (models/tiny-clip-text): the byte -> printable
 * character table, and merging a word's symbols by rank.
 */

/** GPT-2 / CLIP byte -> printable unicode character table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

/**
 * Byte-pair merging of `parts` as CLIP's BPE does: repeatedly merge the
 * adjacent pair with the lowest rank (`ranks` keyed `"a b"`, as merges.txt
 * lines), every occurrence of it at once, until no adjacent pair has a rank.
 */
export function mergeByRank(parts: readonly string[], ranks: ReadonlyMap<string, number>): string[] {
  let out = [...parts];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < out.length; i++) {
      const r = ranks.get(`${out[i]} ${out[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return out;
    const [a, b] = [out[best]!, out[best + 1]!];
    const merged: string[] = [];
    for (let i = 0; i < out.length; ) {
      if (i + 1 < out.length && out[i] === a && out[i + 1] === b) {
        merged.push(a + b);
        i += 2;
      } else merged.push(out[i++]!);
    }
    out = merged;
  }
}
