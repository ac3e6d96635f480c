import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { destroyJetStreamJobs, openJetStreamJobs, type JetStreamJobs } from '../../coordinator/jetstream/mod.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';
import { testLog } from './servers.ts';

/** What {@link jetStreamFixture} gives a test file, filled in by its `before` hook. */
export interface JetStreamFixture {
  readonly nats: NatsServer;
  readonly nc: NatsConnection;
  /** A prefix of the file's own, deleted afterwards (`tag` names the file in it). */
  newPrefix(): string;
  /** Called, newest first, before the prefixes are deleted. */
  onClose(close: () => Promise<unknown> | unknown): void;
  /** The JetStream adapters one coordinator on `prefix` would have (outputs and inputs in a fresh directory), closed afterwards. */
  backend(prefix: string, extra?: { ackWaitMs?: number }): Promise<JetStreamJobs>;
}

/**
 * A real `nats-server -js` for a whole test file (test/helpers/nats-server.ts)
 * and a connection to it; every prefix handed out is destroyed and every
 * registered closer run afterwards.
 */
export function jetStreamFixture(tag: string): JetStreamFixture {
  const prefixes: string[] = [];
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const f = {
    newPrefix() {
      const p = `${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
      prefixes.push(p);
      return p;
    },
    onClose(close: () => Promise<unknown> | unknown) {
      closers.push(close);
    },
    async backend(prefix: string, extra: { ackWaitMs?: number } = {}) {
      const dir = mkdtempSync(join(tmpdir(), `propeller-${tag}-`));
      const b = await openJetStreamJobs({ servers: f.nats.url, prefix, ...extra }, join(dir, 'outputs'), join(dir, 'inputs'), testLog);
      closers.push(() => b.close());
      return b;
    },
  } as JetStreamFixture & { nats: NatsServer; nc: NatsConnection };
  before(async () => {
    f.nats = await startNatsServer();
    f.nc = await connect({ servers: f.nats.url, timeout: 3_000 });
  });
  after(async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    if (f.nc) {
      for (const p of prefixes) await destroyJetStreamJobs(f.nc, p);
      await f.nc.close();
    }
    await f.nats?.stop();
  });
  return f;
}
