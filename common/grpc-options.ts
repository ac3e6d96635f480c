import type * as grpc from '@grpc/grpc-js';
import type { Http2Session } from 'node:http2';

/** Default limit on any gRPC message, both directions (grpc-js receives 4 MiB unless told). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Channel/server options that lift grpc-js' message limits to `maxBytes`. */
export function messageLimitOptions(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Record<string, number> {
  return {
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  };
}

/**
 * HTTP/2 receive window of a channel that carries latents (grpc-js' default
 * is 64 KiB). A worker's reply of a dozen float16 windows is over a
 * megabyte; with the default window it crosses in twenty round trips, each
 * waiting for the coordinator's event loop to acknowledge data — which it
 * does late exactly when many replies land at once, at the end of a round.
 * A window larger than any reply lets a worker send its reply at once.
 */
export const LATENT_FLOW_CONTROL_WINDOW = 32 * 1024 * 1024;

/** Channel options of a client that receives latents: message limits and a large receive window. */
export function latentChannelOptions(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Record<string, number> {
  return { ...messageLimitOptions(maxBytes), 'grpc-node.flow_control_window': LATENT_FLOW_CONTROL_WINDOW };
}

/**
 * Widens the HTTP/2 receive window (per stream and per connection) of every
 * connection a bound grpc-js server accepts from now on. A worker receives a
 * batch of latents of a megabyte or more; with HTTP/2's default 64 KiB
 * window it arrives in steps, each waiting for the worker to be scheduled
 * and send a WINDOW_UPDATE — slow exactly when a round's batches land on
 * many workers at once (at 32 simulated workers on 2 cores, a half-megabyte
 * batch took up to 0.8 s to arrive). grpc-js has no server option for this
 * (`grpc-node.flow_control_window` is read by its client transport only), so
 * this hooks the server's HTTP/2 servers (grpc-js' `http2Servers` map).
 * Call after `bindAsync` has resolved. Returns false, changing nothing, when
 * grpc-js does not look as expected; test/integration/worker-receipt-window.test.ts
 * pins the effect.
 */
export function widenServerReceiveWindow(server: grpc.Server, bytes = LATENT_FLOW_CONTROL_WINDOW): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return false;
  for (const h2 of servers.keys() as IterableIterator<{ on?: unknown }>) {
    if (typeof h2.on !== 'function') return false;
    (h2 as { on(event: 'session', listener: (s: Http2Session) => void): void }).on('session', (session) => {
      session.settings({ initialWindowSize: bytes });
      session.setLocalWindowSize(bytes);
    });
  }
  return true;
}
