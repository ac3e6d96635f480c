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
 * the encoder takes logit(rgb) and a latent for those logits,
 * z = E (logit(rgb) - b) with D E = I. D has rank 3, so each colour has a
 * line of latents (z + t (1, 1, 1, -1)); E picks the one whose hue channels
 * sum to zero: z_3 = mean(u), z_c = u_c - mean(u). The components' hue means
 * sum to zero too (field-mixture/components.ts), so an encoded picture of a
 * component sits where its prior expects it; the minimum-norm choice
 * (D^T (D D^T)^-1) would instead move a quarter of the brightness into the
 * hue channels, where the prior allows little variation.
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
 * latents. Half an 8-bit step: a decoded colour closer to 0 or 1 than that
 * becomes 0 or 255 in a video anyway, and a pixel at 0 then encodes to
 * logit -6.2, near the deepest shadows the components draw, not to an
 * outlier (logit(1e-4) = -9.2 made encoded input videos noisy where they
 * saturate, and the masked modes showed seams there).
 */
export const ENCODER_EPSILON = 0.5 / 255;

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

/**
 * Encoder matrix E, [4][3]: z_c = u_c - mean(u) (c < 3), z_3 = mean(u); a
 * right inverse of D (D E = I) whose range is z_0 + z_1 + z_2 = 0.
 */
export function encoderMatrix(): number[][] {
  const third = 1 / 3;
  return [
    [1 - third, -third, -third],
    [-third, 1 - third, -third],
    [-third, -third, 1 - third],
    [third, third, third],
  ];
}

/** The encoder's latent for a colour: z = E (logit(rgb) - b). */
export function colourToLatent(rgb: ArrayLike<number>): [number, number, number, number] {
  const E = encoderMatrix();
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 3; r++) out[c] += E[c]![r]! * (logit(rgb[r]!) - DECODER_BIAS[r]!);
  }
  return out;
}
