import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The shape of the source: no import cycle between modules (type-only
 * imports included: a cycle of types is still two files that cannot be
 * read one without the other). Relative imports of tracked .ts files
 * outside generated code.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.includes('/generated/') && !f.startsWith('test/'));
}

/** Relative `.ts` modules a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+\.ts)['"]/gm)) {
    out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  }
  return out;
}

/** Every cycle found by a depth-first walk, as the files around it. */
export function importCycles(files: readonly string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((d) => files.includes(d))]));
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

test('source - no import cycle between modules', () => {
  const cycles = importCycles(sourceFiles());
  assert.deepEqual(cycles.map((c) => c.join(' -> ')), []);
});

/** Longest a hand-written TypeScript file may be (tests included): longer ones hold more than one concept. */
const MAX_LINES = 350;

test(`source - no hand-written TypeScript file over ${MAX_LINES} lines`, () => {
  const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.includes('/generated/'));
  const long = files
    .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ f, lines }) => `${f}: ${lines} lines`);
  assert.deepEqual(long, []);
});
