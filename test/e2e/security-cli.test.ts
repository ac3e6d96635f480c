import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_MAIN, spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { referenceModelDir } from '../helpers/servers.ts';
import { makeTestPki } from '../helpers/tls.ts';

/**
 * The security flags end to end through the CLI: `propeller token` makes a
 * token and its stored line; a worker process serves mTLS (--tls-cert,
 * --tls-key, --tls-ca), a coordinator process serves TLS with a tokens file
 * and dials the worker with its client certificate (--worker-tls-*); job
 * commands authenticate with --token or $PROPELLER_TOKEN and check the
 * coordinator with --tls-ca. A coordinator listening beyond loopback
 * without tokens says so in its log.
 */

const children: ChildServer[] = [];
after(async () => {
  await Promise.all(children.map((c) => c.stop(5_000)));
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_MAIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test('security cli - token, TLS and mTLS flags: a tenant lists models through a TLS coordinator and mTLS workers', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-sec-cli-'));
  const pki = makeTestPki();
  const made = await run(['token', '--tenant', 'alice', '--json']);
  assert.equal(made.code, 0, made.stderr);
  const { token, line } = JSON.parse(made.stdout) as { token: string; line: string };
  assert.match(line, /^alice:[0-9a-f]{64}$/);
  const plain = await run(['token', '--tenant', 'ops', '--admin']);
  assert.match(plain.stdout.trim(), /^ppl_/);
  assert.match(plain.stderr, /^ops:[0-9a-f]{64}:admin$/m);
  writeFileSync(join(dir, 'tokens'), `${line}\n`);

  const env = { PROPELLER_LOG_LEVEL: 'info' };
  const worker = await spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', await referenceModelDir(), '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-ca', pki.ca], { env });
  children.push(worker);
  const coordinator = await spawnCliServer(
    [
      'coordinator', '--listen', '127.0.0.1:0', '--workers', worker.address, '--data-dir', join(dir, 'data'),
      '--tokens-file', join(dir, 'tokens'), '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey,
      '--worker-tls-ca', pki.ca, '--worker-tls-cert', pki.clientCert, '--worker-tls-key', pki.clientKey,
    ],
    { env },
  );
  children.push(coordinator);

  const models = await run(['models', '--address', coordinator.address, '--token', token, '--tls-ca', pki.ca]);
  assert.equal(models.code, 0, models.stderr);
  assert.match(models.stdout, /^field-mixture\s+denoiser\s+yes/m);
  // The token from the environment, the CA too.
  const fromEnv = await run(['workers', '--address', coordinator.address], { PROPELLER_TOKEN: token, PROPELLER_TLS_CA: pki.ca });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(fromEnv.stdout, /serving/);
  const noToken = await run(['models', '--address', coordinator.address, '--tls-ca', pki.ca]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /missing bearer token/);
  const noTls = await run(['models', '--address', coordinator.address, '--token', token]);
  assert.equal(noTls.code, 1);
});

test('security cli - a coordinator listening beyond loopback without tokens logs a warning', { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const open = await spawnCliServer(['coordinator', '--listen', '0.0.0.0:0', '--data-dir', mkdtempSync(join(tmpdir(), 'propeller-open-'))], { env: { PROPELLER_LOG_LEVEL: 'info' }, stderr: (l) => lines.push(l) });
  children.push(open);
  await open.stop();
  assert.ok(lines.some((l) => /without tokens/.test(l) && /warn/i.test(l)), lines.join('\n'));
});
