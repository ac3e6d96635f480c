/**
 * The named components of the `field-mixture` reference model.
 *
 * Each component is a stationary Gaussian random field over the native
 * latent window (channels x frames x height x width, periodic): constant
 * channel means (its colour, through the field decoder's logistic colour
 * map rgb_c = sigmoid(z_c + z_3)), per-channel standard deviations, a
 * spatial power law with anisotropy and an optional cell size (its look),
 * and a drift velocity (its motion). See `spectrum.ts` for how the
 * parameters shape the spectrum.
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
  /** Stretch of the structures along y and x (1 = isotropic; y > x: tall, x > y: wide). */
  readonly elongation: { readonly y: number; readonly x: number };
  /** Cell size in latent pixels: structures larger than this are suppressed (0 = none). */
  readonly cellSize: number;
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

/**
 * The K = 6 components, in class-weights order. Each is mostly one "heat"
 * field (channel 3) with a near-constant hue (channels 0..2, small std): the
 * decoder's logistic colour map turns heat into that component's palette
 * (`field-vae/colour-map.ts`), so a component reads as one material lit
 * more or less, not as a speckle of colours. Logits of the decoded colour are
 * u_c = z_c + z_3. The hue means sum to zero (z_0 + z_1 + z_2 = 0), the
 * subspace the field encoder maps colours into, so an encoded video of a
 * component lies where the component's prior puts it (its brightness in
 * z_3, not spread over all four channels). Sizes are in latent pixels
 * (4 image pixels each).
 */
export const FIELD_COMPONENTS: readonly FieldComponent[] = [
  {
    // Sky blue at low heat, white where the heat is high: soft billows ~ 20 latent px, drifting slowly sideways.
    name: 'clouds',
    mean: [-1.6, -0.6, 2.2, 1.0],
    std: [0.25, 0.25, 0.25, 1.6],
    beta: 4.0,
    f0: 0.03,
    elongation: { y: 1.3, x: 1 },
    cellSize: 0,
    velocity: { vy: 0, vx: 0.3 },
    bandwidth: 0.08,
  },
  {
    // Blackbody palette (logits red > green > blue): black -> red -> orange -> yellow. Tall tongues rising fast, flickering.
    name: 'fire',
    mean: [3.0, 0.0, -3.0, -2.0],
    std: [0.25, 0.25, 0.25, 2.0],
    beta: 2.8,
    f0: 0.05,
    elongation: { y: 3.5, x: 1 },
    cellSize: 0,
    velocity: { vy: -1.5, vx: 0 },
    bandwidth: 0.12,
  },
  {
    // Deep navy troughs to teal-white crests: a wide horizontal swell rolling towards the viewer (down) and sideways.
    name: 'ocean',
    mean: [-0.93, 0.07, 0.86, -0.57],
    std: [0.25, 0.25, 0.25, 1.1],
    beta: 3.2,
    f0: 0.04,
    elongation: { y: 1, x: 2.5 },
    cellSize: 0,
    velocity: { vy: 0.6, vx: 0.3 },
    bandwidth: 0.08,
  },
  {
    // Dark night sky with green curtains (thin, tall), violet tints from the red and blue channels; sideways drift with shimmer.
    name: 'aurora',
    mean: [-1.17, 1.83, -0.66, -3.33],
    std: [0.5, 0.25, 0.5, 1.8],
    beta: 3.0,
    f0: 0.04,
    elongation: { y: 4, x: 0.8 },
    cellSize: 0,
    velocity: { vy: 0, vx: 0.4 },
    bandwidth: 0.08,
  },
  {
    // Black crust with glowing red-orange cells ~ 24 latent px, creeping slowly.
    name: 'lava',
    mean: [2.67, -0.33, -2.34, -2.67],
    std: [0.25, 0.25, 0.25, 1.8],
    beta: 4.0,
    f0: 0.03,
    elongation: { y: 1, x: 1 },
    cellSize: 24,
    velocity: { vy: 0.25, vx: 0.2 },
    bandwidth: 0.05,
  },
  {
    // Fine dark-to-light greens (foliage) with yellow-green tints; swaying slightly sideways.
    name: 'forest',
    mean: [-0.5, 1.5, -1.0, -2.0],
    std: [0.3, 0.25, 0.25, 1.3],
    beta: 2.8,
    f0: 0.06,
    elongation: { y: 1, x: 1 },
    cellSize: 0,
    velocity: { vy: 0, vx: 0.25 },
    bandwidth: 0.06,
  },
];

/** Class names in class-weights order. */
export const FIELD_CLASSES: readonly string[] = FIELD_COMPONENTS.map((c) => c.name);
