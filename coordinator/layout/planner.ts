/**
 * Covers a latent with overlapping model-native windows: temporal chunks x
 * spatial tiles, each axis planned independently.
 *
 * On each axis the windows start as common/tiling.ts lays tiles out: every
 * `window - overlap` elements, the last one snapped to the end.
 */
import { axisStarts } from '../../common/tiling.ts';
import { LayoutError } from './errors.ts';
import { AXES, type LatentSize, type Window } from './types.ts';

/** Window start offsets along one axis (common/tiling.ts). */
export const planAxis = axisStarts;

/**
 * Plans the windows of a latent. Order is frame-major, then y, then x;
 * `index` is the position in that order. A window's size on an axis is the
 * native size, or the latent's when the latent is smaller.
 *
 * @throws LayoutError naming the field (`latent.height`, `overlap.frames`, ...)
 *   when a size is not a positive integer, an overlap is not an integer >= 0,
 *   or an overlap is not smaller than its window.
 */
export function planWindows(latent: LatentSize, window: LatentSize, overlap: LatentSize): Window[] {
  for (const axis of AXES) {
    checkInt(`latent.${axis}`, latent[axis], 1);
    checkInt(`window.${axis}`, window[axis], 1);
    checkInt(`overlap.${axis}`, overlap[axis], 0);
    if (overlap[axis] >= window[axis]) {
      throw new LayoutError(
        `overlap.${axis}`,
        `overlap.${axis} (${overlap[axis]}) must be less than window.${axis} (${window[axis]})`,
      );
    }
  }
  const size = (axis: (typeof AXES)[number]): number => Math.min(window[axis], latent[axis]);
  const fs = planAxis(latent.frames, window.frames, overlap.frames);
  const ys = planAxis(latent.height, window.height, overlap.height);
  const xs = planAxis(latent.width, window.width, overlap.width);
  const frames = size('frames');
  const height = size('height');
  const width = size('width');
  const out: Window[] = [];
  for (const f0 of fs) {
    for (const y0 of ys) {
      for (const x0 of xs) out.push(Object.freeze({ index: out.length, f0, y0, x0, frames, height, width }));
    }
  }
  return out;
}

function checkInt(field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new LayoutError(field, `${field} must be ${what}, got ${String(value)}`);
  }
}
