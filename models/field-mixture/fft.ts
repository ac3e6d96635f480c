/**
 * Float64 radix-2 complex FFT, used by the TypeScript reference of the
 * field-mixture denoiser. It is deliberately a different algorithm from the
 * graph's (which multiplies by cos/sin matrices on the real half spectrum),
 * so the tests compare two independent computations.
 */

/** A complex array as separate real and imaginary parts. */
export interface ComplexArray {
  re: Float64Array;
  im: Float64Array;
}

/**
 * In-place FFT of the `n` complex values at `offset + j * stride`, j < n.
 * Sign -1: forward, X[k] = sum_j x[j] exp(-2 pi i jk/n); sign +1: inverse
 * (unscaled). `n` must be a power of two.
 */
export function fft1d(data: ComplexArray, n: number, offset = 0, stride = 1, sign: 1 | -1 = -1): void {
  if (n < 1 || (n & (n - 1)) !== 0) throw new RangeError(`fft1d: n = ${n} is not a power of two`);
  const { re, im } = data;
  // Bit-reversal permutation.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const a = offset + i * stride;
      const b = offset + j * stride;
      const tr = re[a]!;
      re[a] = re[b]!;
      re[b] = tr;
      const ti = im[a]!;
      im[a] = im[b]!;
      im[b] = ti;
    }
  }
  // Butterflies; twiddles computed directly (not by recurrence) to keep float64 accuracy.
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const ang = (sign * 2 * Math.PI * k) / len;
      const wr = Math.cos(ang);
      const wi = Math.sin(ang);
      for (let start = 0; start < n; start += len) {
        const a = offset + (start + k) * stride;
        const b = a + half * stride;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/**
 * Unitary 3-D DFT in place over `planes` consecutive [d0, d1, d2] blocks
 * (row-major): forward with sign -1, inverse with sign +1; both scaled by
 * 1/sqrt(d0 d1 d2) so that the pair is unitary.
 */
export function fft3d(data: ComplexArray, dims: readonly [number, number, number], planes = 1, sign: 1 | -1 = -1): void {
  const [d0, d1, d2] = dims;
  const size = d0 * d1 * d2;
  for (let p = 0; p < planes; p++) {
    const base = p * size;
    for (let i = 0; i < d0 * d1; i++) fft1d(data, d2, base + i * d2, 1, sign);
    for (let i = 0; i < d0; i++) for (let k = 0; k < d2; k++) fft1d(data, d1, base + i * d1 * d2 + k, d2, sign);
    for (let j = 0; j < d1 * d2; j++) fft1d(data, d0, base + j, d1 * d2, sign);
  }
  const scale = 1 / Math.sqrt(size);
  for (let i = 0; i < planes * size; i++) {
    data.re[i] = data.re[i]! * scale;
    data.im[i] = data.im[i]! * scale;
  }
}
