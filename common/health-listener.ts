import * as grpc from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { bindServer, shutdownServer } from './grpc-server.ts';

/** A running plaintext health listener. */
export interface HealthListener {
  /** host:port it listens on (a port-0 listen resolved; 0.0.0.0 shown as 127.0.0.1). */
  readonly address: string;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves only the standard gRPC health service (grpc.health.v1.Health),
 * without TLS, at `listen` (host:port; port 0 picks a free one), answering
 * from the same `health` object as the main server, so both always agree.
 *
 * Why a second port: kubelet's gRPC probes speak plaintext HTTP/2 only, so a
 * server with TLS on its main port cannot be probed there. This listener
 * carries nothing but serving statuses (no jobs, no tensors, no tokens);
 * keep it off the network policy's client side and open to the kubelet.
 */
export async function serveHealth(health: HealthImplementation, listen: string): Promise<HealthListener> {
  const server = new grpc.Server();
  health.addToServer(server);
  const address = await bindServer(server, listen, grpc.ServerCredentials.createInsecure());
  let closing: Promise<void> | undefined;
  // Health calls are unary and short; a Watch stream would hold tryShutdown open.
  return { address, close: () => (closing ??= shutdownServer(server, 1_000)) };
}

/**
 * The plaintext health listener at `listen` when one is configured; when it
 * cannot start, `server` is cut, `undo` releases what was started before
 * (or records the error), and the error goes on.
 */
export async function startHealthListener(health: HealthImplementation, listen: string | undefined, server: grpc.Server, undo: (err: unknown) => Promise<void> | void): Promise<HealthListener | undefined> {
  try {
    return listen ? await serveHealth(health, listen) : undefined;
  } catch (err) {
    server.forceShutdown();
    await undo(err);
    throw err;
  }
}
