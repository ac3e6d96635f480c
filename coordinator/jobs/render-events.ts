/**
 * What a render tells its job while it runs: one typed event per happening
 * (a Picard round, a sequential step, a resume from a checkpoint, a frame
 * encoded...), not a grammar of metric keys. The job's run (job-run.ts)
 * turns them into the record's progress and metrics; the metrics wrapper
 * (coordinator/metrics.ts) reads them on their way there.
 */
import type { JobProgress, JobRecord } from './job.ts';

/** One happening of a render, told by `kind`. */
export type RenderEvent =
  /** Worker evaluations spent so far (after each batch a worker answered). */
  | { readonly kind: 'evaluations'; readonly evaluations: number }
  /** Sampling goes on from a checkpoint: `step` is where it resumed (the steps before it are not run again). */
  | { readonly kind: 'resumed'; readonly step: number; readonly totalSteps: number; readonly evaluations: number }
  /** A step of the sequential engine is done. */
  | { readonly kind: 'step'; readonly step: number; readonly totalSteps: number; readonly evaluations: number; readonly etaSeconds: number }
  /** A Picard round is done: `converged` steps are final, the window held `window` points. */
  | {
      readonly kind: 'picard-round';
      readonly round: number;
      readonly converged: number;
      readonly totalSteps: number;
      readonly window: number;
      readonly stride: number;
      /** Mean error of the round's points over the acceptance threshold (below 1 converges). */
      readonly errorRatio: number;
      readonly evaluations: number;
      readonly etaSeconds: number;
    }
  /** Sampling is done; `picard` for the Picard engine (rounds run, points evaluated). */
  | { readonly kind: 'sampled'; readonly seconds: number; readonly windows: number; readonly evaluations: number; readonly picard?: { readonly rounds: number; readonly points: number } }
  /** Live previews (spec.previews) while sampling: made, dropped (one was still being made), the coordinator's main-thread milliseconds on them, the Decode calls' milliseconds. */
  | { readonly kind: 'previews'; readonly made: number; readonly dropped: number; readonly mainThreadMs: number; readonly decodeMs: number }
  /** Seam ratios of the final latent (layout/seams.ts). */
  | { readonly kind: 'seams'; readonly temporal: number; readonly spatial: number }
  /** Sampling is over and the latent goes to decoding and encoding (state ENCODING). */
  | { readonly kind: 'encoding' }
  /** `frames` frames have been written to the encoder. */
  | { readonly kind: 'frames-encoded'; readonly frames: number };

/** Where a render sends its events. */
export type JobReporter = (event: RenderEvent) => void;

/** Runs one job to its output; resolves with the output's size. */
export type RenderFn = (job: JobRecord, report: JobReporter, signal: AbortSignal) => Promise<{ outputBytes: number }>;

/** Metric of the job record (the API's `Job.metrics`) that holds the step a run resumed at. */
export const RESUMED_FROM_STEP = 'resumed_from_step';

/** What an event changes in the job's progress (undefined: nothing). */
export function progressOf(e: RenderEvent): Partial<JobProgress> | undefined {
  switch (e.kind) {
    case 'evaluations':
      return { evaluations: e.evaluations };
    case 'resumed':
      return { step: e.step, totalSteps: e.totalSteps, evaluations: e.evaluations };
    case 'step':
      return { step: e.step, totalSteps: e.totalSteps, evaluations: e.evaluations, etaSeconds: e.etaSeconds };
    case 'picard-round':
      return {
        step: e.converged,
        totalSteps: e.totalSteps,
        picardIteration: e.round,
        picardWindow: e.window,
        stride: e.stride,
        errorRatio: e.errorRatio,
        evaluations: e.evaluations,
        etaSeconds: e.etaSeconds,
      };
    case 'frames-encoded':
      return { framesEncoded: e.frames };
    default:
      return undefined;
  }
}

/** What an event records in the job's metrics (`JobRecord.metrics`, shown by the API; undefined: nothing). */
export function metricsOf(e: RenderEvent): Record<string, number> | undefined {
  switch (e.kind) {
    case 'resumed':
      return { [RESUMED_FROM_STEP]: e.step };
    case 'sampled':
      return {
        ...(e.picard ? { picard_rounds: e.picard.rounds, picard_points: e.picard.points } : {}),
        sampling_seconds: e.seconds,
        windows: e.windows,
        evaluations: e.evaluations,
      };
    case 'seams':
      return { seam_temporal: e.temporal, seam_spatial: e.spatial };
    case 'previews':
      return { previews: e.made, previews_dropped: e.dropped, preview_main_thread_ms: e.mainThreadMs, preview_decode_ms: e.decodeMs };
    default:
      return undefined;
  }
}
