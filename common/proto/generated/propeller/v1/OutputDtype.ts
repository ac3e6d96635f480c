// Original file: proto/propeller/v1/denoiser.proto

/**
 * Dtype of the latents a worker returns.
 */
export const OutputDtype = {
  /**
   * float16, the default: half the bytes of float32.
   */
  OUTPUT_DTYPE_UNSPECIFIED: 'OUTPUT_DTYPE_UNSPECIFIED',
  OUTPUT_DTYPE_FLOAT16: 'OUTPUT_DTYPE_FLOAT16',
  OUTPUT_DTYPE_FLOAT32: 'OUTPUT_DTYPE_FLOAT32',
} as const;

/**
 * Dtype of the latents a worker returns.
 */
export type OutputDtype =
  /**
   * float16, the default: half the bytes of float32.
   */
  | 'OUTPUT_DTYPE_UNSPECIFIED'
  | 0
  | 'OUTPUT_DTYPE_FLOAT16'
  | 1
  | 'OUTPUT_DTYPE_FLOAT32'
  | 2

/**
 * Dtype of the latents a worker returns.
 */
export type OutputDtype__Output = typeof OutputDtype[keyof typeof OutputDtype]
