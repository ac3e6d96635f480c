/**
 * proto-loader options shared by the runtime loader and the type generator,
 * so the generated types describe exactly the objects grpc-js hands us.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
} as const;
