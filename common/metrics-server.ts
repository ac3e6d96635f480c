import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { errorMessage } from './errors.ts';
import type { Logger } from './logger.ts';

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** host:port it listens on (a port-0 listen resolved). */
  readonly address: string;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Registries that already carry the default process metrics (they may be added once only). */
const withProcessMetrics = new WeakSet<Registry>();

/**
 * Serves a prom-client registry as Prometheus text on `GET /metrics` at
 * `listen` (host:port; port 0 picks a free one). With `processMetrics` the
 * registry also gets prom-client's default process and Node.js metrics
 * (`process_*`, `nodejs_*`): they describe the whole process, so only the
 * process's main server asks for them.
 */
export async function serveMetrics(registry: Registry, listen: string, opts: { log: Logger; processMetrics?: boolean }): Promise<MetricsServer> {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`metrics listen address must be host:port, got "${listen}"`);
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  if (opts.processMetrics && !withProcessMetrics.has(registry)) {
    collectDefaultMetrics({ register: registry });
    withProcessMetrics.add(registry);
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' }).end(path === '/metrics' ? 'use GET\n' : 'see /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        opts.log.warn('collecting metrics failed', { error: errorMessage(err) });
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${errorMessage(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const address = `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${boundPort}`;
  opts.log.info('metrics listening', { address: `${host}:${boundPort}`, path: '/metrics' });
  let closing: Promise<void> | undefined;
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
