import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The shell examples of README.md and docs/: fenced code blocks whose info
 * string starts with sh, bash or shell. A block is either runnable (no
 * attribute) or marked `no-run:REASON` with one of NO_RUN_REASONS; the docs
 * test runs the first kind and checks the second (docs/development.md).
 */

/** Why a shell block may be left unrun: what this machine (or the suite) cannot have. */
export const NO_RUN_REASONS: Readonly<Record<string, string>> = {
  gpu: 'needs an NVIDIA GPU with CUDA',
  kubernetes: 'needs a Kubernetes cluster',
  docker: 'needs a Docker engine',
  weights: 'needs downloaded model weights (or Python with torch)',
  setup: "the README's set-up commands: CI runs them itself",
  slow: 'runs for minutes (benchmarks)',
  server: 'a server that runs until stopped',
};

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);

export interface ShellBlock {
  /** Path relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** The no-run reason, or undefined for a runnable block. */
  readonly noRun: string | undefined;
  /** What is wrong with the fence's attributes, if anything. */
  readonly problem: string | undefined;
}

/** README.md, then docs/**\/*.md in path order. */
export function documentationFiles(root: string): string[] {
  const out = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk(join(root, 'docs'));
  return out;
}

/** Every shell block of `path` (fences of ``` or ~~~, indented or not). */
export function shellBlocks(root: string, path: string): ShellBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence![0] && close[1]!.length >= fence!.length) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    const [lang = '', ...attrs] = info!.trim().split(/\s+/);
    if (SHELL_LANGUAGES.has(lang)) {
      let noRun: string | undefined;
      let problem: string | undefined;
      for (const a of attrs) {
        const m = /^no-run:(.+)$/.exec(a);
        if (m && NO_RUN_REASONS[m[1]!] !== undefined && noRun === undefined) noRun = m[1];
        else problem = `unknown fence attribute "${a}" (runnable blocks have none; others say no-run:${Object.keys(NO_RUN_REASONS).join('|')})`;
      }
      blocks.push({ file: relative(root, path), line: i + 1, code: body.join('\n'), noRun, problem });
    }
    i = j;
  }
  return blocks;
}

/**
 * The argument lists of the `npx propeller ...` commands in a block, split
 * as the shell would (quotes removed; a word with a substitution in it stands
 * as "X"). A command ends at an unquoted |, ;, &, ), a comment or a
 * redirection; backslash-continued lines are joined first.
 */
export function propellerCommands(code: string): string[][] {
  const text = code.replace(/\\\n/g, ' ');
  const out: string[][] = [];
  const re = /(^|[\s;&|(`])npx propeller(?=\s|$)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(shellWords(text.slice(m.index + m[0].length)));
  }
  return out;
}

/** Words up to the end of one simple command (see propellerCommands). */
function shellWords(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let substituted = false;
  const end = (): void => {
    if (inWord) words.push(substituted ? 'X' : word);
    word = '';
    inWord = false;
    substituted = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\n' || c === '|' || c === ';' || c === '&' || c === ')' || c === '`') break;
    if (c === '#' && !inWord) break;
    if (c === '>' || c === '<') {
      // A redirection (with its fd number, as in 2>&1) and its target are not arguments.
      if (inWord && /^\d+$/.test(word)) inWord = false;
      end();
      while (s[i + 1] === '>' || s[i + 1] === '&') i++;
      while (s[i + 1] === ' ') i++;
      while (i + 1 < s.length && !/\s/.test(s[i + 1]!)) i++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      end();
      continue;
    }
    inWord = true;
    if (c === "'") {
      const close = s.indexOf("'", i + 1);
      word += s.slice(i + 1, close < 0 ? s.length : close);
      i = close < 0 ? s.length : close;
    } else if (c === '"') {
      let k = i + 1;
      for (; k < s.length && s[k] !== '"'; k++) {
        if (s[k] === '\\') k++;
        else if (s[k] === '$') substituted = true;
      }
      word += s.slice(i + 1, k);
      i = k;
    } else if (c === '$') {
      substituted = true;
      // Skip a $( ... ) or ${ ... } whole, so its inside does not end the command.
      const pair = s[i + 1] === '(' ? [')', '('] : s[i + 1] === '{' ? ['}', '{'] : undefined;
      if (pair) {
        let depth = 0;
        for (i++; i < s.length; i++) {
          if (s[i] === pair[1]) depth++;
          else if (s[i] === pair[0] && --depth === 0) break;
        }
      }
    } else if (c === '\\') {
      word += s[++i] ?? '';
    } else {
      word += c;
    }
  }
  end();
  return words;
}

/** Output files a runnable block promises: the values of its `--out` flags that name videos. */
export function videoOutputs(code: string): string[] {
  const out: string[] = [];
  for (const args of propellerCommands(code)) {
    args.forEach((a, i) => {
      const p = a === '--out' ? args[i + 1] : a.startsWith('--out=') ? a.slice(6) : undefined;
      if (p !== undefined && p !== 'X' && /\.(mp4|webm)$/.test(p)) out.push(p);
    });
  }
  return out;
}
