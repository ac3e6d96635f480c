/**
 * Start offsets of overlapping tiles along one axis, shared by the
 * coordinator's window planner (coordinator/layout/planner.ts) and the
 * worker's tiled VAE (worker/inference.ts).
 *
 * Tiles start every `stride = size - overlap` elements and the last one
 * snaps to the end (`start = length - size`), so every element is covered.
 * (Public code often drops the tail and zero-fills it instead.)
 * `length <= size` gives the single start 0 (the tile then shrinks to
 * `length`). Assumes positive integers with `overlap < size`.
 */
export function axisStarts(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  if (!(overlap < size)) throw new RangeError(`tile overlap ${overlap} must be smaller than the tile size ${size}`);
  const stride = size - overlap;
  const starts: number[] = [];
  for (let s = 0; ; s += stride) {
    if (s + size >= length) {
      // Snap: strictly after the previous start because that one ended before `length`.
      starts.push(length - size);
      return starts;
    }
    starts.push(s);
  }
}
