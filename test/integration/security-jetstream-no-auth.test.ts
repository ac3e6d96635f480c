import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { createLogger } from '../../common/logger.ts';
import { destroyJetStreamJobs } from '../../coordinator/jetstream/mod.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';

/**
 * A coordinator on JetStream without tokens serves every tenant's jobs on its
 * prefix; it says so once at start (a nats-server this file starts).
 */
const prefix = `pnoauth-${process.pid}-${randomBytes(3).toString('hex')}`;
let nats: NatsServer;

before(async () => {
  nats = await startNatsServer();
});

after(async () => {
  const nc = await connect({ servers: nats.url, timeout: 3_000 });
  await destroyJetStreamJobs(nc, prefix);
  await nc.close();
  await nats?.stop();
});

async function startLines(auth?: { tokens: { tenant: string; sha256: string; admin: boolean }[] }): Promise<string[]> {
  const lines: string[] = [];
  const log = createLogger('coordinator', { level: 'info', json: true, write: (line) => lines.push(line) });
  const coordinator = await startCoordinator(
    { listen: '127.0.0.1:0', dataDir: mkdtempSync(join(tmpdir(), 'propeller-noauth-')), noWorkerTimeoutMs: 5_000, jetstream: { servers: nats.url, prefix, checkpointIntervalMs: 0 }, ...(auth ? { auth } : {}) },
    log,
  );
  await coordinator.close();
  return lines;
}

test('security jetstream - without tokens, a coordinator warns once that every job on its prefix is open', async () => {
  const warnings = (await startLines()).map((l) => JSON.parse(l) as { level: string; msg: string; prefix?: string }).filter((l) => l.level === 'warn' && /JetStream jobs without tokens/.test(l.msg));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.msg, /every job on this prefix, whatever its tenant, is visible and cancelable through this coordinator/);
  assert.equal(warnings[0]!.prefix, prefix);
  const withTokens = await startLines({ tokens: [{ tenant: 'alice', sha256: 'a'.repeat(64), admin: false }] });
  assert.ok(!withTokens.some((l) => /JetStream jobs without tokens/.test(l)), 'no warning with tokens');
});
