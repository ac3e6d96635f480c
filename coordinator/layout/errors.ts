/**
 * Typed errors of the layout layer, carrying the offending field.
 */

/** A layout input (latent size, window, overlap, window data) is invalid. */
export class LayoutError extends Error {
  override readonly name = 'LayoutError';
  /** Dotted path of the offending field, e.g. `overlap.frames`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}
