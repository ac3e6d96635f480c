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
