import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { ensureStandinModels } from '../../models/registry.ts';
import { documentationFiles, propellerCommands, shellBlocks, videoOutputs, type ShellBlock } from '../helpers/doc-blocks.ts';
import { probeVideo } from '../helpers/ffprobe.ts';

/**
 * The shell examples of README.md and docs/, typed as written. Runnable
 * blocks run one after another with bash -e in the repository root, against
 * an embedded cluster this test starts (reference models and the stand-ins
 * the docs use) whose address is $PROPELLER_ADDRESS; whatever a block starts
 * in the background is stopped when it ends, and the videos it names with
 * --out must be there and play. Blocks marked no-run:REASON (a GPU,
 * Kubernetes, weights...) are checked by `bash -n`, and each of their
 * `npx propeller` commands by the CLI's own parser (--help appended).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STANDINS = ['tiny-unet3d-s', 'tiny-clip-text', 'tiny-dit'];
/** Each runnable block should take well under a minute here; 5x that before it counts as hung. */
const BLOCK_TIMEOUT_MS = 300_000;

const blocks: ShellBlock[] = documentationFiles(ROOT).flatMap((f) => shellBlocks(ROOT, f));
const where = (b: ShellBlock): string => `${b.file}:${b.line}`;
let cluster: ChildServer | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'propeller-docs-'));

before(async () => {
  const dirs = await ensureStandinModels(STANDINS);
  cluster = await spawnCliServer(['up', '--listen', '127.0.0.1:0', '--data-dir', join(scratch, 'data'), '--models', dirs.join(',')], {
    env: { PROPELLER_LOG_LEVEL: 'warn' },
    startTimeoutMs: 120_000,
  });
});
after(async () => {
  await cluster?.stop(10_000);
  rmSync(scratch, { recursive: true, force: true });
});

test('docs - README starts with the two set-up commands, and every shell block is runnable or says why not', () => {
  const readme = blocks.filter((b) => b.file === 'README.md');
  assert.ok(readme.length > 0, 'README.md has shell blocks');
  assert.equal(readme[0]!.line, 1, 'the set-up commands are the first thing in README.md');
  assert.match(readme[0]!.code, /^npm install && npm start\b.*\nnpm test\b/);
  assert.equal(readme[0]!.noRun, 'setup');
  for (const b of blocks) {
    assert.equal(b.problem, undefined, `${where(b)}: ${b.problem}`);
    // Examples are typed in the repository root after npm install: the CLI is `npx propeller`.
    assert.doesNotMatch(b.code, /^\s*propeller\s/m, `${where(b)}: write "npx propeller", which works in a fresh clone`);
  }
  const runnable = blocks.filter((b) => b.noRun === undefined);
  assert.ok(runnable.length >= 3, `at least the README's tour runs (found ${runnable.length} runnable blocks)`);
});

test('docs - the README is a front door, and no sentence is written twice', () => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
  assert.ok(lines <= 220, `README.md has ${lines} lines: the reference belongs in docs/`);
  // One place per fact: a prose line (outside code, tables and headings) repeated anywhere is a copy.
  const seen = new Map<string, string>();
  const copies: string[] = [];
  for (const file of documentationFiles(ROOT)) {
    let code = false;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((raw, i) => {
        const line = raw.trim();
        if (/^(`{3,}|~{3,})/.test(line)) code = !code;
        if (code || line.length < 60 || line.startsWith('|') || line.startsWith('#')) return;
        const at = `${file.slice(ROOT.length)}:${i + 1}`;
        const first = seen.get(line);
        if (first) copies.push(`${at} repeats ${first}: ${line}`);
        else seen.set(line, at);
      });
  }
  assert.deepEqual(copies, []);
});

test('docs - every shell block parses, and every propeller command in it names real flags', { timeout: 300_000 }, () => {
  const failures: string[] = [];
  for (const b of blocks) {
    const syntax = spawnSync('bash', ['-n'], { input: b.code, encoding: 'utf8' });
    if (syntax.status !== 0) failures.push(`${where(b)}: bash -n: ${syntax.stderr.trim()}`);
  }
  // Each distinct command once, all in one process: the CLI parses its flags strictly, and --help stops it there.
  const commands = new Map<string, string>();
  for (const b of blocks) for (const args of propellerCommands(b.code)) commands.set(JSON.stringify(args), where(b));
  const lists = [...commands.keys()].map((k) => JSON.parse(k) as string[]);
  const checked = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/cli-flags-check.ts')], { cwd: ROOT, input: JSON.stringify(lists), encoding: 'utf8', timeout: 120_000 });
  assert.equal(checked.status, 0, checked.stderr);
  for (const f of JSON.parse(checked.stdout) as { args: string[]; error: string }[]) {
    failures.push(`${commands.get(JSON.stringify(f.args))}: npx propeller ${f.args.join(' ')}: ${f.error}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(commands.size > 10, `the docs show the CLI (${commands.size} distinct commands checked)`);
});

for (const b of blocks.filter((x) => x.noRun === undefined)) {
  test(`docs - ${where(b)} runs as written`, { timeout: BLOCK_TIMEOUT_MS + 30_000 }, async () => {
    const outputs = videoOutputs(b.code).map((p) => resolve(ROOT, p));
    for (const p of outputs) rmSync(p, { force: true });
    const { code, output } = await runBlock(b);
    assert.equal(code, 0, `${where(b)} failed (exit ${code}):\n${b.code}\n--- output (last 4000 characters) ---\n${output.slice(-4000)}`);
    for (const p of outputs) {
      assert.ok(existsSync(p), `${where(b)} promised ${p}`);
      const probe = await probeVideo(p);
      assert.ok(probe.frames > 0 && probe.width > 0, `${p}: ${JSON.stringify(probe)}`);
    }
  });
}

/**
 * Runs a block with bash -e in its own process group, then stops the whole
 * group (servers it started with &): SIGTERM, and SIGKILL after 10 s.
 */
function runBlock(b: ShellBlock): Promise<{ code: number | null; output: string }> {
  const script = join(scratch, `block-${b.line}.sh`);
  writeFileSync(script, `set -eo pipefail\n${b.code}\n`);
  const child = spawn('bash', [script], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PROPELLER_ADDRESS: cluster!.address, PROPELLER_LOG_LEVEL: 'warn' },
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-64_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  return new Promise((done) => {
    const timer = setTimeout(() => {
      output += `\n[docs test] killed after ${BLOCK_TIMEOUT_MS} ms`;
      signalGroup('SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.on('exit', async (code) => {
      clearTimeout(timer);
      signalGroup('SIGTERM');
      // Wait for the group to drain so the next block finds its ports free.
      for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 100));
      signalGroup('SIGKILL');
      done({ code, output });
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
