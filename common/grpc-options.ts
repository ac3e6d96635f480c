/** Default limit on any gRPC message, both directions (grpc-js receives 4 MiB unless told). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Channel/server options that lift grpc-js' message limits to `maxBytes`. */
export function messageLimitOptions(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Record<string, number> {
  return {
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  };
}
