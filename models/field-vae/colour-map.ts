/**
 * The fixed latent <-> RGB colour map shared by the field decoder and encoder:
 * a linear map into logit space followed by the logistic function, per pixel,
 *
 *   u = b + D z,   rgb = sigmoid(u) = 1 / (1 + exp(-u)),
 *   D = [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]],  b = 0.
 *
 * Latent channels 0..2 set a hue (the logits of red, green and blue) and
 * channel 3 is a brightness, "heat" channel added to all three logits. The
 * logistic turns one Gaussian heat field into a palette: the channel with
 * the largest logit saturates first, so a fire component (logits red >
 * green > blue) goes black -> dark red -> orange -> yellow -> white as its
 * heat rises, clouds go from sky blue to white, the ocean from deep blue to
 * foam. A linear map would instead give every component a speckle around
 * one colour.
 *
 * The map is a bijection between logits and (0, 1)^3, so it inverts exactly:
 * the encoder takes logit(rgb) and the minimum-norm latent for those logits,
 * z = D+ (logit(rgb) - b), D+ = D^T (D D^T)^-1 (D has rank 3).
 */

/** Decoder matrix D into logit space, [3][4]. */
export const DECODER_MATRIX: readonly (readonly number[])[] = [
  [1, 0, 0, 1],
  [0, 1, 0, 1],
  [0, 0, 1, 1],
];

/** Logit offset b (the zero latent decodes to mid grey). */
export const DECODER_BIAS: readonly number[] = [0, 0, 0];

/**
 * The encoder clamps colours to [ENCODER_EPSILON, 1 - ENCODER_EPSILON] before
 * taking logits, so black and white pixels of an input image give finite
 * latents (logit(1e-4) ~ -9.2: beyond anything a component draws).
 */
export const ENCODER_EPSILON = 1e-4;

/** The logistic function. */
export function sigmoid(u: number): number {
  return 1 / (1 + Math.exp(-u));
}

/** Its inverse, on the clamped range the encoder uses. */
export function logit(p: number): number {
  const q = Math.min(1 - ENCODER_EPSILON, Math.max(ENCODER_EPSILON, p));
  return Math.log(q / (1 - q));
}

/** Logits u = b + D z of one latent vector. */
export function latentToLogits(z: ArrayLike<number>): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let v = DECODER_BIAS[r]!;
    for (let c = 0; c < 4; c++) v += DECODER_MATRIX[r]![c]! * z[c]!;
    out[r] = v;
  }
  return out;
}

/** rgb = sigmoid(b + D z) for one latent vector: the colour the decoder gives a constant latent. */
export function latentToColour(z: ArrayLike<number>): [number, number, number] {
  const u = latentToLogits(z);
  return [sigmoid(u[0]), sigmoid(u[1]), sigmoid(u[2])];
}

/** Encoder matrix E = D+ = D^T (D D^T)^-1, [4][3], in float64. */
export function encoderMatrix(): number[][] {
  const D = DECODER_MATRIX;
  const G = [0, 1, 2].map((i) => [0, 1, 2].map((j) => D[i]!.reduce((s, v, c) => s + v * D[j]![c]!, 0)));
  const Gi = invert3(G);
  return [0, 1, 2, 3].map((c) => [0, 1, 2].map((j) => D.reduce((s, row, i) => s + row[c]! * Gi[i]![j]!, 0)));
}

/** Minimum-norm latent for a colour: z = D+ (logit(rgb) - b). */
export function colourToLatent(rgb: ArrayLike<number>): [number, number, number, number] {
  const E = encoderMatrix();
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 3; r++) out[c] += E[c]![r]! * (logit(rgb[r]!) - DECODER_BIAS[r]!);
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
