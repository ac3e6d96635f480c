/** Limits on what one job may ask for. */
export interface JobLimits {
  maxFrames: number;
  maxHeight: number;
  maxWidth: number;
  maxSteps: number;
  maxFps: number;
  /** Jobs waiting in the queue before Submit answers RESOURCE_EXHAUSTED. */
  maxQueued: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxFrames: 4096,
  maxHeight: 4096,
  maxWidth: 4096,
  maxSteps: 1000,
  maxFps: 240,
  maxQueued: 1000,
};
