import { Histogram, type Registry } from 'prom-client';

/**
 * Histogram buckets of the coordinator's durations. Each ends well past the
 * longest value a real deployment produces, so a p95 never pins at the top
 * bucket: an A100-class worker takes ~15 s for a batch of 16 windows (and a
 * call may run to the 120 s batch timeout), a round of a 10,000-frame job on
 * 8 GPUs ~450 s, such a job ~4 h, and a job may wait in a busy queue for hours.
 */

/** One call to a worker (evaluate, decode, encode): 5 ms to the 120 s default batch timeout and beyond. */
export const CALL_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One sampling round (every window of the video evaluated once): up to 30 minutes. */
export const ROUND_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800];

/** A whole job, start to end: up to two days. */
export const JOB_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 172800];

/** Waiting (queue wait, time to first step or frame): 100 ms to a day. */
export const WAIT_SECONDS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400];

/** A histogram registered on `registry`: its name, help, buckets and label names in one call. */
export function histogram(registry: Registry, name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram {
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** A histogram of a wait in seconds (queue wait, time to first step or frame), unlabelled. */
export function waitHistogram(registry: Registry, name: string, help: string): Histogram {
  return histogram(registry, name, help, WAIT_SECONDS);
}
