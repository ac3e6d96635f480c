import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { WorkerBucketError, openWorkerBucket, type WorkerBucketRole } from '../../common/worker-bucket.ts';
import { NatsDiscoveryError } from '../../coordinator/cluster/nats-registry.ts';
import { AnnounceError } from '../../worker/nats-announcer.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';

/**
 * The worker-announcement bucket as the worker and the coordinator open it
 * (common/worker-bucket.ts), against a real nats-server this file starts;
 * without nats-server this test fails, it never skips.
 */
const WORKER: WorkerBucketRole = { client: 'test-worker', purpose: 'announce in', error: AnnounceError };
const COORDINATOR: WorkerBucketRole = { client: 'test-coordinator', purpose: 'watch', error: NatsDiscoveryError };
let nats: NatsServer;

before(async () => {
  nats = await startNatsServer();
});

after(async () => {
  await nats?.stop();
});

const freshBucket = (): string => `propeller-test-${process.pid}-${randomBytes(4).toString('hex')}`;

test('worker bucket - either side creates it with the announcement TTL and history 1; the other opens the same bucket', async () => {
  const bucket = freshBucket();
  const ttl = await openWorkerBucket({ servers: nats.url, bucket, ttlMs: 7_000 }, WORKER, async (nc, kv) => {
    await kv.put('w1', 'hello');
    const status = await kv.status();
    assert.equal(status.history, 1);
    await nc.drain();
    return status.ttl;
  });
  assert.equal(ttl, 7_000);
  const seen = await openWorkerBucket({ servers: nats.url, bucket, ttlMs: 7_000 }, COORDINATOR, async (nc, kv, name) => {
    assert.equal(name, bucket);
    const entry = await kv.get('w1');
    await nc.drain();
    return entry?.string();
  });
  assert.equal(seen, 'hello');
});

test('worker bucket - a failure while using it closes the connection and names the servers and bucket', async () => {
  const bucket = freshBucket();
  let conn: NatsConnection | undefined;
  await assert.rejects(
    openWorkerBucket({ servers: nats.url, bucket }, COORDINATOR, async (nc) => {
      conn = nc;
      throw new Error('watch refused');
    }),
    (err: unknown) => {
      assert.ok(err instanceof NatsDiscoveryError && err instanceof WorkerBucketError, String(err));
      assert.equal(err.name, 'NatsDiscoveryError');
      assert.equal(err.servers, nats.url);
      assert.equal(err.bucket, bucket);
      assert.match(err.message, new RegExp(`cannot watch NATS bucket "${bucket}": watch refused`));
      return true;
    },
  );
  assert.ok(conn);
  await conn.closed();
  assert.ok(conn.isClosed());
});

test('worker bucket - an unreachable server fails with the role\'s error before the bucket is touched', async () => {
  await nats.halt();
  try {
    let used = false;
    await assert.rejects(
      openWorkerBucket({ servers: nats.url }, WORKER, async () => {
        used = true;
      }),
      (err: unknown) => {
        assert.ok(err instanceof AnnounceError, String(err));
        assert.equal(err.name, 'AnnounceError');
        assert.equal(err.bucket, 'propeller-workers');
        assert.match(err.message, new RegExp(`cannot connect to NATS at ${nats.url}`));
        return true;
      },
    );
    assert.equal(used, false);
  } finally {
    await nats.resume();
  }
});
