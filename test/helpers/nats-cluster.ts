import { after, before } from 'node:test';
import { ProcessCluster } from './cluster.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';

/** What {@link natsProcessCluster} gives a test file; `nats` is set by its `before` hook. */
export interface NatsProcessCluster {
  readonly cluster: ProcessCluster;
  readonly nats: NatsServer;
}

/**
 * A real nats-server of the test file's own (test/helpers/nats-server.ts)
 * and a {@link ProcessCluster} of real processes, for the files whose
 * coordinators and workers meet through NATS: the server starts before the
 * file's tests; afterwards the processes stop first, then the server (its
 * store, streams and buckets with it).
 */
export function natsProcessCluster(): NatsProcessCluster {
  const f = { cluster: new ProcessCluster() } as { cluster: ProcessCluster; nats: NatsServer };
  before(async () => {
    f.nats = await startNatsServer();
  });
  after(async () => {
    await f.cluster.stop();
    await f.nats?.stop();
  });
  return f;
}
