/** Small helpers the benches share: rounding, medians and a plain-text table. */

/** `v` rounded to `digits` decimals, as a number (for JSON rows). */
export function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Prints rows as an aligned table with the first row's keys as the header. */
export function printTable(rows: readonly object[], write: (s: string) => void = (s) => process.stdout.write(s)): void {
  if (rows.length === 0) return;
  const cells = rows as readonly Record<string, unknown>[];
  const keys = Object.keys(cells[0]!);
  const widths = keys.map((k) => Math.max(k.length, ...cells.map((r) => String(r[k]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  write(line(keys) + '\n' + cells.map((r) => line(keys.map((k) => String(r[k])))).join('\n') + '\n');
}
