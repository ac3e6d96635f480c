/**
 * Shapes shared by the layout modules. A job's latent is `[C, F, H, W]`,
 * row-major with channels outermost; windows cut it along F, H and W only.
 */

/** Extent of a latent (or a window) along the three cut axes. */
export interface LatentSize {
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/** Full latent shape `[channels, frames, height, width]`. */
export interface LatentDims extends LatentSize {
  readonly channels: number;
}

/** One window of a layout: start offsets and size along each axis (all channels). */
export interface Window {
  /** Position in the plan (frame-major, then y, then x). */
  readonly index: number;
  readonly f0: number;
  readonly y0: number;
  readonly x0: number;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/** The three cut axes, in storage order. */
export const AXES = ['frames', 'height', 'width'] as const;

/** One of {@link AXES}. */
export type Axis = (typeof AXES)[number];

/** Start offset of `w` along `axis`. */
export function windowStart(w: Window, axis: Axis): number {
  return axis === 'frames' ? w.f0 : axis === 'height' ? w.y0 : w.x0;
}
