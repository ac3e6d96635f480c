/**
 * The field-mixture's latent preview map (the manifest's `previewMap`,
 * coordinator/previews): the field decoder's per-pixel colour function
 * (field-vae/colour-map.ts `latentToColour`) to first order at the zero
 * latent, `rgb ~ f(0) + J z`, J by central differences. Taking the
 * derivative of the decoder's own function keeps the map right whatever
 * that function is: exact for a linear one, the tangent of the logistic
 * palette (1/2 + u/4) otherwise, which the preview's clipping to [0, 1]
 * turns into a rough piecewise-linear follow of the saturation. (A
 * least-squares fit over the components' latents came out 1.5-2x further
 * from the decoded colours on sampled latents: the fit cannot know about
 * the clipping.) The error that remains is measured in
 * docs/benchmarks/previews.md.
 */
import { latentToColour } from '../field-vae/colour-map.ts';

type Rgb = [number, number, number];

/** The map of the 4-channel field latent. */
export function fieldPreviewMap(): { matrix: Rgb[]; bias: Rgb } {
  const C = 4;
  const h = 1e-3;
  const at = (c: number, d: number) => latentToColour(Array.from({ length: C }, (_, k) => (k === c ? d : 0)));
  const bias = latentToColour(new Array<number>(C).fill(0));
  const matrix = Array.from({ length: C }, (_, c) => {
    const up = at(c, h);
    const down = at(c, -h);
    return [0, 1, 2].map((r) => (up[r]! - down[r]!) / (2 * h)) as Rgb;
  });
  return { matrix, bias: [bias[0], bias[1], bias[2]] };
}
