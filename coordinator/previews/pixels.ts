/**
 * Pixel work of preview images, in plain loops over interleaved RGB24:
 * which frames a preview shows, its tile size, the latent colour map, and
 * box resampling into a canvas.
 */

/** A manifest's preview colour map (common/manifest.ts `previewMap`). */
export interface PreviewColourMap {
  /** One [r, g, b] row per latent channel. */
  matrix: readonly (readonly number[])[];
  bias: readonly number[];
}

/** `n` frame indices evenly spaced over `[0, total)`, first and last included (fewer when `total < n`). */
export function pickFrames(total: number, n: number): number[] {
  const count = Math.max(1, Math.min(n, total));
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.round((i * (total - 1)) / (count - 1)));
}

/**
 * Size of one tile when `cols` tiles of a `srcWidth x srcHeight` picture sit
 * side by side within `width` pixels: the aspect ratio kept, at least 1 px,
 * and no taller than `maxHeight`.
 */
export function tileSize(width: number, cols: number, srcWidth: number, srcHeight: number, maxHeight = 512): { width: number; height: number } {
  let w = Math.max(1, Math.floor(width / cols));
  let h = Math.max(1, Math.round((w * srcHeight) / srcWidth));
  if (h > maxHeight) {
    h = maxHeight;
    w = Math.max(1, Math.round((h * srcWidth) / srcHeight));
  }
  return { width: w, height: h };
}

/**
 * One latent frame (`channels` planes of `plane` values) through the colour
 * map, into interleaved RGB24 (`plane * 3` bytes), clipped to [0, 1].
 */
export function mapLatentFrame(latent: Float32Array, channels: number, plane: number, map: PreviewColourMap, out: Uint8Array): Uint8Array {
  for (let r = 0; r < 3; r++) {
    const bias = map.bias[r]!;
    for (let p = 0; p < plane; p++) {
      let v = bias;
      for (let c = 0; c < channels; c++) v += latent[c * plane + p]! * map.matrix[c]![r]!;
      out[p * 3 + r] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  }
  return out;
}

/** Planar RGB (`[3, H, W]`, a decoder's output) to interleaved RGB24. */
export function interleave(planar: Uint8Array, plane: number, out: Uint8Array = new Uint8Array(plane * 3)): Uint8Array {
  for (let p = 0; p < plane; p++) {
    out[3 * p] = planar[p]!;
    out[3 * p + 1] = planar[plane + p]!;
    out[3 * p + 2] = planar[2 * plane + p]!;
  }
  return out;
}

/** Where a tile goes in a canvas: its top-left corner and size, and the canvas width. */
export interface TilePlace {
  x: number;
  y: number;
  width: number;
  height: number;
  canvasWidth: number;
}

/**
 * Resamples an interleaved RGB24 picture (`srcWidth x srcHeight`) into a
 * tile of `canvas`: each tile pixel is the mean of the source pixels its
 * box covers (a box filter when shrinking, nearest when enlarging).
 */
export function resizeInto(src: Uint8Array, srcWidth: number, srcHeight: number, canvas: Uint8Array, place: TilePlace): void {
  const { width: tw, height: th } = place;
  for (let y = 0; y < th; y++) {
    const sy0 = Math.floor((y * srcHeight) / th);
    const sy1 = Math.max(sy0 + 1, Math.floor(((y + 1) * srcHeight) / th));
    for (let x = 0; x < tw; x++) {
      const sx0 = Math.floor((x * srcWidth) / tw);
      const sx1 = Math.max(sx0 + 1, Math.floor(((x + 1) * srcWidth) / tw));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = sy0; sy < sy1; sy++) {
        for (let sx = sx0; sx < sx1; sx++) {
          const s = (sy * srcWidth + sx) * 3;
          r += src[s]!;
          g += src[s + 1]!;
          b += src[s + 2]!;
        }
      }
      const n = (sy1 - sy0) * (sx1 - sx0);
      const d = ((place.y + y) * place.canvasWidth + place.x + x) * 3;
      canvas[d] = Math.round(r / n);
      canvas[d + 1] = Math.round(g / n);
      canvas[d + 2] = Math.round(b / n);
    }
  }
}

/**
 * Averages each `factor x factor` block of `planes` planes of `height x
 * width` values into one (edge blocks average what they hold): planes of
 * `ceil(height / factor) x ceil(width / factor)`. A preview decodes latents
 * shrunk so, and the decoder makes frames no larger than the strip needs.
 */
export function shrinkPlanes(src: Float32Array, planes: number, height: number, width: number, factor: number): Float32Array {
  if (factor <= 1) return src;
  const h = Math.ceil(height / factor);
  const w = Math.ceil(width / factor);
  const out = new Float32Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let y = 0; y < h; y++) {
      const y1 = Math.min(height, (y + 1) * factor);
      for (let x = 0; x < w; x++) {
        const x1 = Math.min(width, (x + 1) * factor);
        let sum = 0;
        for (let sy = y * factor; sy < y1; sy++) for (let sx = x * factor; sx < x1; sx++) sum += src[base + sy * width + sx]!;
        out[(p * h + y) * w + x] = sum / ((y1 - y * factor) * (x1 - x * factor));
      }
    }
  }
  return out;
}
