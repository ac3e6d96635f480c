import type { DenoiserManifest } from '../../common/manifest.ts';
import type { Logger } from '../../common/logger.ts';
import type { CapacityModel } from '../cluster/capacity.ts';
import type { MemoryBudget } from './memory-budget.ts';
import { estimateJobMemory } from './memory-estimate.ts';
import type { WorkerPool } from '../cluster/worker-pool.ts';
import { CompositeDenoiser, initialNoise, planWindows, seamMetrics, type WindowWork } from '../layout/mod.ts';
import { offsetScheduler, samplePipelined, sampleSequential, stepNoise, type DenoiseHints, type SequentialState } from '../sampling/mod.ts';
import { createScheduler } from '../sampling/registry.ts';
import { applyKnownToInitial, maskedDenoiser, pasteKnown } from '../modes/mod.ts';
import { loadJobInput } from './job-input.ts';
import type { ValidSpec } from './spec.ts';
import { samplePicard } from '../sampling/picard.ts';
import { createPicardPolicy } from '../sampling/picard-policy.ts';
import type { Encoder } from '../video/encoder.ts';
import { streamDecodedFrames } from '../video/frame-stream.ts';
import { writeLatentFile } from '../video/latent-file.ts';
import type { JobRecord } from './job.ts';
import type { JobReporter, RenderFn } from './render-events.ts';
import { LeaseLostError, type ArtifactStore, type CheckpointStore, type InputStore } from './ports.ts';
import { StoreOutageError, UnavailableError, errorMessage } from '../../common/errors.ts';
import { CheckpointWriter, loadCheckpoint } from './checkpoints.ts';
import { encodeSamplerCheckpoint } from '../sampling/checkpoint.ts';
import { windowClassWeights } from './prompts.ts';
import { JobConditioning, inputImageLatent } from '../conditioning/mod.ts';
import { resolvePrompts } from './spec.ts';
import type { PreviewBoard } from '../previews/board.ts';
import { startJobPreviews } from '../previews/job-previews.ts';
import { observedDenoise } from '../previews/observed-denoise.ts';

export interface RenderDeps {
  pool: WorkerPool;
  encoder: Encoder;
  artifacts: ArtifactStore;
  /** Uploaded inputs of the masked modes (read once, then deleted). */
  inputs: InputStore;
  manifest: (model: string) => DenoiserManifest | undefined;
  log: Logger;
  /** Latent frames per Decode call. */
  decodeFramesPerCall: number;
  /** Shared stores: sampler checkpoints, so a job resumes on another coordinator. */
  checkpoints?: CheckpointStore;
  /** Least time between two checkpoints of a job (0: after every advance). */
  checkpointIntervalMs?: number;
  /** Who needs the workers: the `auto` sampler's window per round (coordinator/cluster/capacity.ts). */
  capacity: CapacityModel;
  /** Largest picture the input decoders may allocate (the limits' maxInputPixels). */
  maxInputPixels?: number;
  /** The coordinator's memory for running jobs: each reserves its estimate (memory-estimate.ts) while it runs. */
  memory: MemoryBudget;
  /** Where jobs that ask for live previews post them (coordinator/previews); absent: no previews. */
  previews?: PreviewBoard;
}

/** The largest window up to `most` whose memory estimate fits `budget` (at least 1). */
function fittingAutoWindow(spec: ValidSpec, m: DenoiserManifest, most: number, budget: number): number {
  let w = Math.max(1, most);
  while (w > 1 && estimateJobMemory({ ...spec, sampler: { kind: 'auto', window: w } }, m).bytes > budget) w--;
  return w;
}

/**
 * The job pipeline: plan windows over the latent, sample it step by step
 * with the composite denoiser spread over the workers, then decode and
 * encode frame by frame (or write the raw latent).
 */
export function createRenderer(deps: RenderDeps): RenderFn {
  const run = async (job: JobRecord, report: JobReporter, signal: AbortSignal, hold: (release: () => void) => void) => {
    const spec = job.spec;
    const m = deps.manifest(spec.model);
    if (!m) throw new Error(`model "${spec.model}" is no longer served by any worker`);
    const dims = {
      channels: m.latentChannels,
      frames: spec.frames / m.vaeScale.temporal,
      height: spec.height / m.vaeScale.spatial,
      width: spec.width / m.vaeScale.spatial,
    };
    const windows = planWindows(
      dims,
      { frames: m.nativeFrames, height: m.nativeHeight, width: m.nativeWidth },
      { frames: spec.layout.chunkOverlap, height: spec.layout.tileOverlap, width: spec.layout.tileOverlap },
    );
    // What this job asks of the workers per round, while it samples.
    const { sampler } = spec;
    const claim = deps.capacity.claim({ model: spec.model, windowsPerStep: windows.length, elastic: sampler.kind === 'auto', window: sampler.kind === 'picard' ? sampler.window : 1 });
    hold(claim.release);
    // Memory: the job's estimate is reserved in the coordinator's budget
    // (waiting for room); auto runs at most the window that fits it.
    const autoWindow = sampler.kind === 'auto' ? fittingAutoWindow(spec, m, Math.min(sampler.window, claim.aloneWindow(sampler.window)), deps.memory.capacity) : sampler.window;
    const need = estimateJobMemory({ ...spec, sampler: { kind: sampler.kind, window: autoWindow } }, m);
    hold(await deps.memory.reserve(need.bytes, `job ${job.id}`, signal));
    const segments = resolvePrompts(spec, m);
    // Masked modes: the input's known region; video_to_video: its SDEdit start.
    const prepared = await loadJobInput({ spec, dims, spatialScale: m.vaeScale.spatial, pool: deps.pool, inputs: deps.inputs, signal, reader: { maxPixels: deps.maxInputPixels } });
    const scheduler = offsetScheduler(createScheduler(spec.scheduler, schedulerConfig(spec, m), spec.steps), prepared?.skipSteps ?? 0);
    let evaluations = 0;
    const conditioning = new JobConditioning({ manifest: m, tensors: spec.conditioning, guidance: spec.guidance, fps: spec.fps, frames: spec.frames, segmentStarts: spec.promptSchedule.map((s) => s.fromFrame), prompts: spec.promptSchedule.map((s) => s.prompt), negativePrompt: spec.negativePrompt, inputImage: spec.mode === 'image_to_video' ? inputImageLatent(prepared?.region) : undefined, classWeightsFor: (w) => windowClassWeights(segments, w.f0, w.frames, m.vaeScale.temporal) });
    const composite = new CompositeDenoiser({
      dims,
      windows,
      blend: spec.layout.blend,
      predictionType: m.predictionType,
      // Each window's class weights, embeddings, prompts, time ids, image latents and one-batch guidance (coordinator/conditioning).
      conditioningFor: (w) => conditioning.forWindow(w),
      scheduler,
      // Two-batch guidance evaluates each window twice and combines the answers; otherwise the work goes as it is.
      evaluate: (items: WindowWork[], sig?: AbortSignal, hints?: DenoiseHints) =>
        conditioning.evaluate(items, (work) =>
          deps.pool.evaluate(spec.model, work, {
            jobId: job.id,
            signal: sig,
            speculative: hints?.speculative === true,
            onBatchDone: (n) => {
              evaluations += n;
              report({ kind: 'evaluations', evaluations });
            },
          }),
        ),
    });
    const total = dims.channels * dims.frames * dims.height * dims.width;
    const initial = initialNoise(spec.layout.noiseInit, dims, spec.seed, { window: m.nativeFrames, overlap: spec.layout.chunkOverlap });
    for (let i = 0; i < total; i++) initial[i]! *= scheduler.initNoiseSigma;
    if (prepared?.init && !prepared.passthrough) applyKnownToInitial(initial, prepared.init, scheduler.noiseLevel(0), scheduler.initNoiseSigma);
    // The masked denoiser keeps the known region inside the model, as both engines see it.
    const unobserved = prepared?.region ? maskedDenoiser(composite.denoise, prepared.region, scheduler) : composite.denoise;
    // Live previews (spec.previews): a step's prediction now and then, made off the engines' path.
    const previews = startJobPreviews({ jobId: job.id, spec, manifest: m, dims, totalSteps: scheduler.numSteps, pool: deps.pool, board: deps.previews, log: deps.log, signal });
    const denoise = previews ? observedDenoise(unobserved, dims, previews.observe) : unobserved;
    deps.log.info('sampling', { job: job.id, latent: `${dims.channels}x${dims.frames}x${dims.height}x${dims.width}`, windows: windows.length, steps: spec.steps });
    const started = performance.now();
    const eta = (step: number, totalSteps: number) => ((performance.now() - started) / 1000 / Math.max(step, 1)) * (totalSteps - step);
    // Checkpoints: the fingerprint ties one to this job's run (engine, window, schedule, latent).
    const fingerprint = `${job.id}/${spec.sampler.kind}/${spec.sampler.window}/${spec.sampler.policy}/${spec.scheduler}/${scheduler.numSteps}/${spec.seed}/${total}`;
    const resume = deps.checkpoints ? await loadCheckpoint(deps.checkpoints, job.id, fingerprint, deps.log) : undefined;
    const writer = deps.checkpoints ? new CheckpointWriter(deps.checkpoints, job.id, deps.checkpointIntervalMs ?? 0, deps.log) : undefined;
    if (resume) {
      evaluations = resume.extra.evaluations ?? 0;
      const step = resume.engine === 'sequential' ? resume.state.step : resume.state.begin;
      report({ kind: 'resumed', step, totalSteps: scheduler.numSteps, evaluations });
    }
    let latent: Float32Array;
    let picardTotals: { rounds: number; points: number } | undefined;
    // auto: Picard with a window per round from the free slots, unless the job
    // could never have more than window 1 (more windows per step than slots):
    // then the pipelined sequential engine, which overlaps the steps. A
    // resumed job keeps the engine its checkpoint came from.
    const picard = sampler.kind === 'picard' || (sampler.kind === 'auto' && (resume ? resume.engine === 'picard' : claim.aloneWindow(sampler.window) >= 2));
    if (sampler.kind === 'auto') deps.log.info('auto sampler', { job: job.id, engine: picard ? 'picard' : 'sequential', windowsPerStep: windows.length, aloneWindow: claim.aloneWindow(sampler.window) });
    try {
      if (prepared?.passthrough && prepared.init) {
        // video_to_video with no step left to run: the input's latent is the output.
        latent = prepared.init.data;
      } else if (picard) {
        const policy = createPicardPolicy(sampler.policy || 'forecast', sampler.tolerance);
        const result = await samplePicard({
          scheduler,
          denoise,
          initial,
          noise: stepNoise(spec.seed),
          window: sampler.window,
          windowFor: sampler.kind === 'auto' ? async () => Math.min(autoWindow, await claim.windowFor(sampler.window)) : undefined,
          recycle: composite.recycle,
          policy,
          signal,
          resume: resume?.engine === 'picard' ? resume.state : undefined,
          onCheckpoint: writer && ((state) => writer.offer(() => encodeSamplerCheckpoint({ engine: 'picard', fingerprint, state, extra: { evaluations } }), state.begin >= scheduler.numSteps)),
          onRound: (r) => {
            const finite = r.ratios.filter(Number.isFinite);
            const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : 0;
            report({
              kind: 'picard-round',
              round: r.round,
              converged: r.converged,
              totalSteps: scheduler.numSteps,
              window: r.window,
              stride: r.stride,
              errorRatio: r.threshold > 0 ? mean / r.threshold : mean,
              evaluations,
              etaSeconds: eta(r.converged, scheduler.numSteps),
            });
          },
        });
        latent = result.sample;
        picardTotals = { rounds: result.rounds, points: result.evaluations };
      } else {
        const sequential = {
          initial,
          // The render holds no other use for the initial noise: sample in place (one latent less).
          consumeInitial: true,
          noise: stepNoise(spec.seed),
          signal,
          resume: resume?.engine === 'sequential' ? resume.state : undefined,
          onCheckpoint: writer && ((state: SequentialState) => writer.offer(() => encodeSamplerCheckpoint({ engine: 'sequential', fingerprint, state, extra: { evaluations } }), state.step >= scheduler.numSteps)),
          onStep: (step: number, totalSteps: number) => report({ kind: 'step', step, totalSteps, evaluations, etaSeconds: eta(step, totalSteps) }),
        };
        // Without a known region the steps overlap (pipelined-sequential.ts):
        // the same numbers, without every GPU waiting at the end of each step.
        latent = prepared?.region ? await sampleSequential({ ...sequential, scheduler, denoise, recycle: composite.recycle }) : await samplePipelined({ ...sequential, composite, onPrediction: previews?.observe });
      }
    } finally {
      claim.release();
      // Never leave an upload racing the job's end (the manager deletes the checkpoint then).
      await writer?.flush();
    }
    // What the previews took, in the job's metrics (their last one is done before decoding starts).
    if (previews) report({ kind: 'previews', ...(await previews.settle()) });
    // The last step lands at the scheduler's final level, which may keep a little noise: paste the known region.
    if (prepared?.region) pasteKnown(latent, prepared.region);
    report({ kind: 'sampled', seconds: (performance.now() - started) / 1000, windows: windows.length, evaluations, picard: picardTotals });
    const seams = seamMetrics(latent, dims, windows);
    report({ kind: 'seams', temporal: seams.seamTemporal, spatial: seams.seamSpatial });

    if (spec.output.format === 'latent') {
      const path = deps.artifacts.pathFor(job.id, 'latent');
      await writeLatentFile(path, latent, [dims.channels, dims.frames, dims.height, dims.width]);
      return { outputBytes: (await deps.artifacts.commit(job.id, path)).bytes };
    }

    report({ kind: 'encoding' });
    const path = deps.artifacts.pathFor(job.id, spec.output.format);
    const sink = deps.encoder.open({ width: spec.width, height: spec.height, fps: spec.fps, format: spec.output.format, crf: spec.output.crf, outputPath: path });
    try {
      const frames = await streamDecodedFrames({
        pool: deps.pool,
        model: spec.model,
        latent,
        dims,
        framesPerCall: deps.decodeFramesPerCall,
        signal,
        sink: async (rgb, index) => {
          previews?.frame(rgb, index);
          await sink.writeFrame(rgb);
          report({ kind: 'frames-encoded', frames: index + 1 });
        },
      });
      const result = await sink.finish();
      // The contact sheet, for the SUCCEEDED event.
      await previews?.finish();
      report({ kind: 'frames-encoded', frames });
      return { outputBytes: (await deps.artifacts.commit(job.id, result.path)).bytes };
    } catch (err) {
      await sink.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  };
  return async (job: JobRecord, report: JobReporter, signal: AbortSignal) => {
    // What the job holds until it ends, whatever stage it fails in: its memory reservation, its capacity claim.
    const held: (() => void)[] = [];
    let outage = false;
    try {
      return await run(job, report, signal, (release) => held.push(release));
    } catch (err) {
      // The job manager leaves a job the shared store failed for another try.
      outage = err instanceof StoreOutageError;
      throw err;
    } finally {
      for (const release of held.reverse()) release();
      // A shared input store keeps the upload for a coordinator that takes the job over;
      // it goes once the job has ended, not when this coordinator merely stops or lost the job.
      const reason: unknown = signal.aborted ? signal.reason : undefined;
      const handedOver = outage || reason instanceof UnavailableError || reason instanceof LeaseLostError;
      if (job.spec.input && deps.inputs.materialize && !handedOver) {
        await deps.inputs.delete(job.spec.input.ref).catch((err: unknown) => deps.log.warn('deleting input failed', { job: job.id, error: errorMessage(err) }));
      }
    }
  };
}

/**
 * The scheduler config of a job: the model's default scheduler config (when
 * the job uses that scheduler), then the model's training schedule and
 * prediction type, then the job's own settings.
 */
export function schedulerConfig(spec: ValidSpec, m: DenoiserManifest): Record<string, unknown> {
  const base = m.defaultScheduler?.kind === spec.scheduler ? { ...m.defaultScheduler.config } : {};
  if (spec.scheduler === 'flow_euler') return { numTrainTimesteps: m.trainSchedule.numTrainTimesteps, ...base };
  return {
    ...base,
    trainSchedule: m.trainSchedule,
    predictionType: m.predictionType,
    ...(spec.scheduler === 'ddim' ? { eta: spec.eta } : {}),
    // 1000 leading steps with offset 1 would start past the last training timestep.
    ...(spec.steps === m.trainSchedule.numTrainTimesteps ? { stepsOffset: 0 } : {}),
  };
}
