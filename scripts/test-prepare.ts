/**
 * Prepares this machine for `npm test`, which runs it before the test runner:
 *
 * 1. The Debian binaries the suite starts itself: `nats-server` (the JetStream
 *    tests start their own server through test/helpers/nats-server.ts) and
 *    `prometheus` + `promtool` (test/integration/prometheus-dashboards.test.ts),
 *    iproute2's `ip` and `tc` (test/fault/network-links.test.ts: namespaces
 *    and veth links, which also need root).
 *    Looked up on PATH and in /usr/sbin, /usr/bin (Debian puts nats-server in
 *    /usr/sbin, which a user's PATH may lack). When one is missing: as root
 *    with apt-get, `apt-get update` once and `apt-get install` of the missing
 *    packages; otherwise exit 1 with the command to run.
 * 2. The npm-shipped ffmpeg and ffprobe made executable: their chmod install
 *    scripts may be held back (npm 11 runs only the scripts it is allowed to).
 *
 * Silent and quick (no child process) when everything is in place.
 *
 *   npx tsx scripts/test-prepare.ts
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../test/helpers/binaries.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each binary the suite runs, the Debian package that ships it, and who needs it. */
const REQUIRED_BINARIES = [
  { binary: 'nats-server', pkg: 'nats-server', usedBy: 'the JetStream and NATS discovery tests' },
  { binary: 'prometheus', pkg: 'prometheus', usedBy: 'the Prometheus dashboards and alerts test' },
  { binary: 'promtool', pkg: 'prometheus', usedBy: 'the Prometheus dashboards and alerts test' },
  { binary: 'ip', pkg: 'iproute2', usedBy: 'the network fault tests (namespaces, veth links)' },
  { binary: 'tc', pkg: 'iproute2', usedBy: 'the network fault tests (rate limits)' },
];


/** The npm-shipped media binaries, per platform package. */
const NPM_BINARIES = [
  `node_modules/@ffmpeg-installer/${process.platform}-${process.arch}/ffmpeg`,
  `node_modules/@ffprobe-installer/${process.platform}-${process.arch}/ffprobe`,
];

// Waits for another apt or dpkg run (an unattended upgrade, a second checkout) instead of failing.
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

// Everything goes to stderr, so the test runner's stdout (a TAP or JUnit reporter) stays clean.
const say = (line: string): void => console.error(`test-prepare: ${line}`);

/** The packages whose binaries are missing, in REQUIRED_BINARIES order, without repeats. */
function missingPackages() {
  const missing = REQUIRED_BINARIES.filter((r) => !findBinary(r.binary));
  return { missing, packages: [...new Set(missing.map((r) => r.pkg))] };
}

/** Runs a command with its output shown; exits with a message when it fails. */
function run(command: string, args: string[], env: Record<string, string> = {}): void {
  say(`running: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : result.signal ? `signal ${result.signal}` : `exit code ${result.status}`;
    say(`${command} failed (${why})`);
    process.exit(1);
  }
}

function installDebianPackages() {
  const { missing, packages } = missingPackages();
  if (packages.length === 0) return;
  for (const r of missing) say(`${r.binary} not found (Debian package ${r.pkg}, for ${r.usedBy})`);

  const installCommand = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const aptGet = findBinary('apt-get');
  if (!isRoot || !aptGet) {
    say(
      aptGet
        ? `install the missing packages, then run npm test again:\n  sudo ${installCommand}`
        : `no apt-get here: install ${missing.map((r) => r.binary).join(', ')} with this system's package manager ` +
            `(on Debian or Ubuntu: sudo ${installCommand}), then run npm test again`,
    );
    process.exit(1);
  }

  const aptEnv = { DEBIAN_FRONTEND: 'noninteractive' };
  run(aptGet, [...APT_LOCK_WAIT, 'update', '-qq'], aptEnv);
  run(aptGet, [...APT_LOCK_WAIT, 'install', '-y', '-qq', '--no-install-recommends', ...packages], aptEnv);

  const still = missingPackages().missing;
  if (still.length > 0) {
    say(`still missing after the install: ${still.map((r) => r.binary).join(', ')}`);
    process.exit(1);
  }
  say(`installed ${packages.join(', ')}`);
}

function makeNpmBinariesExecutable() {
  for (const rel of NPM_BINARIES) {
    const path = join(ROOT, rel);
    // Not installed (npm install not run yet, or another platform): the tests that need it say so.
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode;
    if ((mode & 0o111) === 0o111) continue;
    chmodSync(path, (mode & 0o7777) | 0o755);
    say(`made ${rel} executable`);
  }
}

installDebianPackages();
makeNpmBinariesExecutable();
