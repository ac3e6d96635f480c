/**
 * Real matrices that implement unitary DFTs as MatMuls, so the
 * field-mixture graph needs no DFT op and runs on every execution provider.
 *
 * A complex tensor is carried as its real and imaginary parts stacked along
 * one axis ("part" = 0 real, 1 imaginary). With c[j,n] = cos(2 pi jn/n),
 * s[j,n] = sin(2 pi jn/n) and X = (c - i s) x / sqrt(n):
 *   [Xr; Xi] = [[c, s], [-s, c]] [xr; xi] / sqrt(n)        (forward)
 *   [xr; xi] = [[c, -s], [s, c]] [Xr; Xi] / sqrt(n)        (inverse = transpose)
 * Along W the input is real, so only bins 0..W/2 are computed; the inverse
 * along W rebuilds the real signal from that half spectrum with weights
 * 1 (bins 0 and W/2) or 2 (the others, which stand for their conjugates).
 * All entries are computed in float64 (angles reduced mod n exactly first).
 */

function cosSin(j: number, k: number, n: number): [number, number] {
  // Reduce jk mod n in integers so large products lose no accuracy.
  const ang = (2 * Math.PI * ((j * k) % n)) / n;
  // Exact zeros where they belong (e.g. sin(pi)), so Nyquist bins stay real.
  const m = (4 * ((j * k) % n)) / n;
  if (Number.isInteger(m)) return [[1, 0, -1, 0][m]!, [0, 1, 0, -1][m]!];
  return [Math.cos(ang), Math.sin(ang)];
}

/**
 * Forward complex DFT as a [2n, 2n] block matrix acting from the left on
 * [real; imag] stacked along the transformed axis.
 */
export function complexDftBlock(n: number, inverse = false): Float64Array {
  const out = new Float64Array(4 * n * n);
  const scale = 1 / Math.sqrt(n);
  const sgn = inverse ? -1 : 1;
  const row = 2 * n;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      const [c, s] = cosSin(j, k, n);
      out[j * row + k] = c * scale;
      out[j * row + n + k] = sgn * s * scale;
      out[(n + j) * row + k] = -sgn * s * scale;
      out[(n + j) * row + n + k] = c * scale;
    }
  }
  return out;
}

/**
 * Forward real-input DFT along the last axis, as [2, n, n/2+1]: `x @ M[0]`
 * is the real part and `x @ M[1]` the imaginary part of bins 0..n/2.
 */
export function realDftRight(n: number): Float64Array {
  const h = Math.floor(n / 2) + 1;
  const out = new Float64Array(2 * n * h);
  const scale = 1 / Math.sqrt(n);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < h; k++) {
      const [c, s] = cosSin(j, k, n);
      out[j * h + k] = c * scale;
      out[n * h + j * h + k] = -s * scale;
    }
  }
  return out;
}

/**
 * Inverse of `realDftRight` for Hermitian spectra, as [2, n/2+1, n]:
 * x = Xr @ M[0] + Xi @ M[1], i.e. x[j] = sum_k m_k (Xr cos - Xi sin) / sqrt(n).
 */
export function realIdftRight(n: number): Float64Array {
  const h = Math.floor(n / 2) + 1;
  const out = new Float64Array(2 * h * n);
  const scale = 1 / Math.sqrt(n);
  for (let k = 0; k < h; k++) {
    const m = k === 0 || 2 * k === n ? 1 : 2;
    for (let j = 0; j < n; j++) {
      const [c, s] = cosSin(k, j, n);
      out[k * n + j] = m * c * scale;
      out[h * n + k * n + j] = -m * s * scale;
    }
  }
  return out;
}
