/**
 * Pixel layout conversion between the model side (planar float [3, H, W] in
 * [0, 1], as VAE decoders emit it) and the encoder side (interleaved RGB24).
 */

/**
 * Convert one planar float frame `[3, height, width]` in [0, 1] to
 * interleaved RGB24 (`height * width * 3` bytes, row-major, R G B per pixel).
 *
 * Values are scaled by 255, rounded half up and clamped to [0, 255];
 * NaN becomes 0 (a diverged sample should show as black, not as noise).
 *
 * @throws {RangeError} when `chw.length !== 3 * height * width` or a size is not a positive integer.
 */
export function float01ToRgb24(chw: Float32Array, height: number, width: number): Uint8Array {
  if (!Number.isInteger(height) || height <= 0) throw new RangeError(`height must be a positive integer, got ${height}`);
  if (!Number.isInteger(width) || width <= 0) throw new RangeError(`width must be a positive integer, got ${width}`);
  const plane = height * width;
  if (chw.length !== 3 * plane) {
    throw new RangeError(`frame has ${chw.length} values, expected 3 * ${height} * ${width} = ${3 * plane}`);
  }
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = c * plane;
    for (let i = 0, o = c; i < plane; i++, o += 3) {
      // x >= 255 / x > 0 comparisons are false for NaN, so NaN lands on 0;
      // truncation of a positive x + 0.5 is Math.round without the call.
      const x = chw[src + i] * 255 + 0.5;
      out[o] = x >= 255 ? 255 : x > 0 ? x | 0 : 0;
    }
  }
  return out;
}
