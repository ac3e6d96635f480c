/**
 * Typed errors of the sampling layer. Each carries the offending config
 * field so callers (job validation, CLI) can point at it without parsing
 * the message.
 */

/** A scheduler config or a scheduler call broke a documented precondition. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  /** Dotted path of the offending field, e.g. `eta` or `trainSchedule.numTrainTimesteps`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}
