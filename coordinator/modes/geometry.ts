/**
 * Where an input goes on the job's canvas in `expand` mode: scaled to fit
 * inside it, keeping its aspect ratio, centred, on the latent grid.
 */

/** A rectangle in latent elements (`x0`, `y0`, `width`, `height`) and its size in pixels. */
export interface ContainedRect {
  x0: number;
  y0: number;
  width: number;
  height: number;
  pixelWidth: number;
  pixelHeight: number;
}

/**
 * The largest rectangle with the input's aspect ratio inside a
 * `canvasWidth x canvasHeight` canvas (pixels), with sides rounded to the
 * nearest multiple of `scale` (the VAE's spatial factor, so the input
 * encodes to whole latent elements) and centred on the latent grid.
 * Returns undefined when a side would round to 0 (an input too thin for
 * the canvas).
 */
export function containedRect(inputWidth: number, inputHeight: number, canvasWidth: number, canvasHeight: number, scale: number): ContainedRect | undefined {
  const s = Math.min(canvasWidth / inputWidth, canvasHeight / inputHeight);
  const side = (v: number, max: number) => Math.min(max, Math.round(v / scale) * scale);
  const pixelWidth = side(inputWidth * s, canvasWidth);
  const pixelHeight = side(inputHeight * s, canvasHeight);
  if (pixelWidth < scale || pixelHeight < scale) return undefined;
  const width = pixelWidth / scale;
  const height = pixelHeight / scale;
  return {
    x0: Math.floor((canvasWidth / scale - width) / 2),
    y0: Math.floor((canvasHeight / scale - height) / 2),
    width,
    height,
    pixelWidth,
    pixelHeight,
  };
}
