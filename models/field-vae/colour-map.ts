/**
 * The fixed latent <-> RGB colour map shared by the field decoder and encoder.
 *
 *   rgb = b + D z,   D = [[0.1, 0, 0, 0.05], [0, 0.1, 0, 0.05], [0, 0, 0.1, 0.05]],  b = 0.5
 *
 * Latent channels 0..2 push red, green and blue; channel 3 is a brightness
 * channel (it lifts all three). A unit of latent moves a colour by 0.1, so
 * component means of |z| <= ~4 reach saturated colours while a sigma of
 * 0.5..1 gives visible but in-range texture. D has rank 3: the encoder uses
 * its pseudo-inverse D+ = D^T (D D^T)^-1, the minimum-norm latent for a colour.
 */

/** Decoder colour matrix D, [3][4]. */
export const DECODER_MATRIX: readonly (readonly number[])[] = [
  [0.1, 0, 0, 0.05],
  [0, 0.1, 0, 0.05],
  [0, 0, 0.1, 0.05],
];

/** Decoder colour offset b (the colour of the zero latent: mid grey). */
export const DECODER_BIAS: readonly number[] = [0.5, 0.5, 0.5];

/** rgb = b + D z for one latent vector (no clipping). */
export function latentToColour(z: ArrayLike<number>): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let v = DECODER_BIAS[r]!;
    for (let c = 0; c < 4; c++) v += DECODER_MATRIX[r]![c]! * z[c]!;
    out[r] = v;
  }
  return out;
}

/**
 * Per-colour standard deviation of rgb when the latent channels are
 * independent with standard deviations `std`: sqrt(sum_c D[r][c]^2 std_c^2).
 */
export function colourSpread(std: ArrayLike<number>): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let v = 0;
    for (let c = 0; c < 4; c++) v += (DECODER_MATRIX[r]![c]! * std[c]!) ** 2;
    out[r] = Math.sqrt(v);
  }
  return out;
}

/** Encoder matrix E = D+ = D^T (D D^T)^-1, [4][3], in float64. */
export function encoderMatrix(): number[][] {
  const D = DECODER_MATRIX;
  const G = [0, 1, 2].map((i) => [0, 1, 2].map((j) => D[i]!.reduce((s, v, c) => s + v * D[j]![c]!, 0)));
  const Gi = invert3(G);
  return [0, 1, 2, 3].map((c) => [0, 1, 2].map((j) => D.reduce((s, row, i) => s + row[c]! * Gi[i]![j]!, 0)));
}

/** Minimum-norm latent for a colour: z = D+ (rgb - b). */
export function colourToLatent(rgb: ArrayLike<number>): [number, number, number, number] {
  const E = encoderMatrix();
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 3; r++) out[c] += E[c]![r]! * (rgb[r]! - DECODER_BIAS[r]!);
  }
  return out;
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  if (Math.abs(det) < 1e-300) throw new RangeError('colour map is singular');
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}
