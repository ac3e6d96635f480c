/** Limits on what one job may ask for. */
export interface JobLimits {
  maxFrames: number;
  maxHeight: number;
  maxWidth: number;
  maxSteps: number;
  maxFps: number;
  /** Jobs waiting in the queue before Submit answers RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** Bytes of an uploaded input (`spec.input.data`); it travels in one Submit message. */
  maxInputBytes: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxFrames: 16384,
  maxHeight: 4096,
  maxWidth: 4096,
  maxSteps: 1000,
  maxFps: 240,
  maxQueued: 1000,
  // The gRPC message limit (DEFAULT_MAX_MESSAGE_BYTES): a larger upload could not arrive anyway.
  maxInputBytes: 64 * 1024 * 1024,
};
