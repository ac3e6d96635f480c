// Original file: proto/propeller/v1/tensor.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A dense tensor, row-major, little-endian. Latents travel as float16 by
 * default (half the bytes); the coordinator keeps float32 internally.
 */
export interface Tensor {
  /**
   * "float32" | "float16" | "int64" | "uint8"
   */
  'dtype'?: (string);
  'shape'?: (number | string | Long)[];
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * A dense tensor, row-major, little-endian. Latents travel as float16 by
 * default (half the bytes); the coordinator keeps float32 internally.
 */
export interface Tensor__Output {
  /**
   * "float32" | "float16" | "int64" | "uint8"
   */
  'dtype': (string);
  'shape': (number)[];
  'data': (Buffer);
}
