import { DEFAULT_MAX_INPUT_PIXELS } from '../video/input-reader.ts';

/** Limits on what one job may ask for, and on how many jobs wait. */
export interface JobLimits {
  maxFrames: number;
  maxHeight: number;
  maxWidth: number;
  maxSteps: number;
  maxFps: number;
  /** Largest Picard window (steps solved at once: each costs one latent per window in memory). */
  maxWindow: number;
  /** Jobs waiting in the queue, all tenants together, before Submit answers RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** Jobs one tenant may have waiting in the queue (0: no limit of its own). */
  maxQueuedPerTenant: number;
  /**
   * Unfinished jobs (queued, running or encoding) one tenant may have at once
   * (0: no limit of its own). It bounds the tenant's concurrent jobs at
   * admission: a submit past it answers RESOURCE_EXHAUSTED.
   */
  maxActivePerTenant: number;
  /** Bytes of an uploaded input (`spec.input.data`); it travels in one Submit message. */
  maxInputBytes: number;
  /**
   * Largest picture of an uploaded input, in pixels: checked from the image
   * header before any decoder runs, and the decoders' own limit
   * (`-max_pixels`), so a decompression bomb is refused without decoding it.
   */
  maxInputPixels: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxFrames: 16384,
  maxHeight: 4096,
  maxWidth: 4096,
  maxSteps: 1000,
  maxFps: 240,
  maxWindow: 64,
  maxQueued: 1000,
  maxQueuedPerTenant: 100,
  maxActivePerTenant: 200,
  // The gRPC message limit (DEFAULT_MAX_MESSAGE_BYTES): a larger upload could not arrive anyway.
  maxInputBytes: 64 * 1024 * 1024,
  // 4096 x 4096: 4K UHD and DCI 4K inputs fit; one RGB frame of it is 48 MiB in ffmpeg.
  maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
};
