/**
 * The named components of the `field-mixture` reference model.
 *
 * Each component is a stationary Gaussian random field over the native
 * latent window (channels x frames x height x width, periodic): constant
 * channel means (its colour, through the field decoder's colour map
 * rgb_c = 0.5 + 0.1 z_c + 0.05 z_3), per-channel standard deviations, a
 * spatial power law and a drift velocity (its motion). See `spectrum.ts`
 * for how the parameters shape the spectrum.
 */

/** One mixture component. */
export interface FieldComponent {
  readonly name: string;
  /** Channel means (latent units); they set the decoded colour. */
  readonly mean: readonly [number, number, number, number];
  /** Per-channel standard deviation of the field around the mean. */
  readonly std: readonly [number, number, number, number];
  /** Spatial power-law exponent: larger = smoother, bigger blobs. */
  readonly beta: number;
  /** Spatial corner frequency (cycles per latent pixel): the largest structures are ~1/f0. */
  readonly f0: number;
  /** Drift velocity in latent pixels per frame; y grows downwards (negative vy = upwards). */
  readonly velocity: { readonly vy: number; readonly vx: number };
  /** Temporal bandwidth (cycles per frame) around the drift plane: small = rigid motion, large = flicker. */
  readonly bandwidth: number;
}

/** Latent window dimensions: channels x frames x height x width. */
export interface FieldWindow {
  readonly channels: number;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/** Native window of the model: C x F x H x W latent elements, periodic on every axis. */
export const FIELD_WINDOW: FieldWindow = { channels: 4, frames: 16, height: 32, width: 32 };

/** Latent elements in one native window. */
export const FIELD_WINDOW_SIZE = FIELD_WINDOW.channels * FIELD_WINDOW.frames * FIELD_WINDOW.height * FIELD_WINDOW.width;

/**
 * Relative white floor added to every normalised spectrum (see `spectrum.ts`).
 * It keeps each covariance well-conditioned, so the exact log-likelihood of
 * a float32 window is finite and meaningful; it reads as a faint grain.
 */
export const SPECTRUM_FLOOR = 1e-3;

/** The K = 6 components, in class-weights order. */
export const FIELD_COMPONENTS: readonly FieldComponent[] = [
  {
    // Light blue-white; brightness texture (channel 3) dominates; slow sideways drift.
    name: 'clouds',
    mean: [2.25, 2.75, 3.25, 1.5],
    std: [0.5, 0.5, 0.5, 1.0],
    beta: 3.0,
    f0: 0.04,
    velocity: { vy: 0, vx: 0.35 },
    bandwidth: 0.04,
  },
  {
    // Orange with red-yellow variation (wide green channel); rises quickly and flickers.
    name: 'fire',
    mean: [3.75, -0.25, -4.05, 0.5],
    std: [0.6, 0.9, 0.4, 0.8],
    beta: 2.2,
    f0: 0.08,
    velocity: { vy: -1.2, vx: 0 },
    bandwidth: 0.12,
  },
  {
    // Deep blue; waves travel sideways fast.
    name: 'ocean',
    mean: [-3.7, -2.3, 1.0, -1.0],
    std: [0.3, 0.5, 0.7, 0.6],
    beta: 2.6,
    f0: 0.06,
    velocity: { vy: 0, vx: 1.0 },
    bandwidth: 0.06,
  },
  {
    // Green curtains with violet (red + blue) excursions; large smooth structures drifting diagonally.
    name: 'aurora',
    mean: [-2.0, 2.5, 0.0, 0.0],
    std: [1.0, 0.8, 1.0, 0.5],
    beta: 3.5,
    f0: 0.03,
    velocity: { vy: 0.15, vx: 0.6 },
    bandwidth: 0.05,
  },
  {
    // Dark glowing red; very smooth, slow creep.
    name: 'lava',
    mean: [1.5, -3.3, -3.7, -1.0],
    std: [0.9, 0.4, 0.3, 0.8],
    beta: 3.8,
    f0: 0.05,
    velocity: { vy: 0.25, vx: 0.1 },
    bandwidth: 0.03,
  },
  {
    // Dark green foliage; rough (low beta), nearly static.
    name: 'forest',
    mean: [-3.0, -0.5, -3.2, -1.0],
    std: [0.4, 0.8, 0.4, 0.7],
    beta: 2.0,
    f0: 0.1,
    velocity: { vy: 0, vx: 0.05 },
    bandwidth: 0.02,
  },
];

/** Class names in class-weights order. */
export const FIELD_CLASSES: readonly string[] = FIELD_COMPONENTS.map((c) => c.name);
