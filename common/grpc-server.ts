import type * as grpc from '@grpc/grpc-js';

/**
 * Starting and stopping a grpc-js server, as the coordinator, the worker and
 * the plaintext health listener (health-listener.ts) all do it.
 */

/** What a started server (coordinator or worker) gives its caller besides its own parts. */
export interface ServerHandle<Metrics> {
  /** host:port a client dials. */
  readonly address: string;
  /** Prometheus metrics (served by the process, see common/metrics-server.ts). */
  readonly metrics: Metrics;
  /** host:port of the plaintext health listener (`healthListen`), when configured. */
  readonly healthAddress: string | undefined;
}

/**
 * Binds `server` at `listen` (host:port; port 0 picks a free one) and returns
 * the address a client dials there: the bound port, with 0.0.0.0 or an empty
 * host shown as 127.0.0.1.
 */
export async function bindServer(server: grpc.Server, listen: string, credentials: grpc.ServerCredentials): Promise<string> {
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${port}`;
}

/** Lets the calls in flight finish for up to `graceMs`, then cuts the rest. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
