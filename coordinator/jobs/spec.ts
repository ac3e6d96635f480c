import { InvalidArgumentError, quoteBounded } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import { toSeed, type Seed } from '../../common/seed.ts';
import type { JobSpec, JobSpec__Output } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { JobLimits } from './limits.ts';
import { validateModeFields, type JobMode, type ValidInput } from './modes.ts';
import { promptToClassWeights, type ResolvedSegment } from './prompts.ts';
import { resolveGuidance, validateJobConditioning, type StoredTensor } from '../conditioning/mod.ts';
import { PICARD_POLICIES, type PicardPolicyName } from '../sampling/picard-policy.ts';
import { SCHEDULER_KINDS, type SchedulerKind } from '../sampling/registry.ts';
import { previewSpecToProto, validatePreviewSpec, type ValidPreviewSpec } from '../previews/preview-spec.ts';

/** A job spec after validation, with every default filled in. */
export interface ValidSpec {
  model: string;
  prompt: string;
  promptSchedule: { fromFrame: number; prompt: string }[];
  negativePrompt: string;
  guidance: number;
  frames: number;
  height: number;
  width: number;
  fps: number;
  steps: number;
  scheduler: SchedulerKind;
  eta: number;
  /** uint64: a number below 2^53, else its decimal string (common/seed.ts). */
  seed: Seed;
  /** For `auto`, `window` is the largest window it may pick (coordinator/cluster/capacity.ts). */
  sampler: { kind: SamplerKind; window: number; tolerance: number; policy: PicardPolicyName | '' };
  layout: {
    chunkFrames: number;
    chunkOverlap: number;
    tileSize: number;
    tileOverlap: number;
    blend: 'uniform' | 'linear' | 'cosine' | 'gaussian';
    noiseInit: 'independent' | 'freenoise';
  };
  output: { format: 'mp4' | 'webm' | 'latent'; crf: number };
  priority: number;
  mode: JobMode;
  /** video_to_video's SDEdit strength; 0 for the other modes. */
  strength: number;
  /** The uploaded input, once Submit has stored and probed it (absent for text_to_video). */
  input?: ValidInput;
  /** Tensors uploaded for the model's extra conditioning (absent when it takes none). */
  conditioning?: Record<string, StoredTensor>;
  /** Live previews on Watch (coordinator/previews); absent: none. */
  previews?: ValidPreviewSpec;
}

export const SPEC_DEFAULTS = {
  model: 'field-mixture',
  fps: 24,
  steps: 30,
  crf: 18,
  /** Temporal chunk overlap in latent frames, and spatial tile overlap in latent pixels. */
  chunkOverlap: 8,
  tileOverlap: 16,
  picardWindow: 8,
  picardTolerance: 0.1,
  picardPolicy: 'forecast',
  /**
   * The elastic sampler's tolerance and policy: on the reference model its
   * samples are as likely as sequential ones (docs/benchmarks/elastic.md).
   */
  autoTolerance: 0.2,
  autoPolicy: 'forecast',
} as const;

export const SAMPLER_KINDS = ['sequential', 'picard', 'auto'] as const;
export type SamplerKind = (typeof SAMPLER_KINDS)[number];
/** What a job that names no sampler gets (the coordinator's `defaultSampler`). */
export type DefaultSampler = 'sequential' | 'auto';

const BLENDS = ['uniform', 'linear', 'cosine', 'gaussian'] as const;
const FORMATS = ['mp4', 'webm', 'latent'] as const;

/**
 * Validates a submitted spec against the model it names and the limits.
 * Errors name the field (`spec.frames`, `spec.prompt_schedule[1].prompt`).
 */
export function validateSpec(
  raw: JobSpec__Output,
  lookup: (model: string) => DenoiserManifest | undefined,
  knownModels: readonly string[],
  limits: JobLimits,
  defaultSampler: DefaultSampler = 'sequential',
): ValidSpec {
  const modelName = raw.model || SPEC_DEFAULTS.model;
  const m = lookup(modelName);
  if (!m) {
    throw new InvalidArgumentError('spec.model', `unknown model ${quoteBounded(modelName)}; known models: ${knownModels.length ? knownModels.join(', ') : '(no workers serving)'}`);
  }
  const ts = m.vaeScale.temporal;
  const ss = m.vaeScale.spatial;
  // Frames and size are required: 0 (unset on the wire) is an error, not a default.
  const frames = raw.frames;
  const height = raw.height;
  const width = raw.width;
  intIn('spec.frames', frames, m.nativeFrames * ts, limits.maxFrames, `the model's native window is ${m.nativeFrames * ts} frames`);
  intIn('spec.height', height, m.nativeHeight * ss, limits.maxHeight, `the model's native window is ${m.nativeHeight * ss} pixels high`);
  intIn('spec.width', width, m.nativeWidth * ss, limits.maxWidth, `the model's native window is ${m.nativeWidth * ss} pixels wide`);
  if (frames % ts !== 0) throw new InvalidArgumentError('spec.frames', `must be a multiple of ${ts} (the model's temporal latent factor), got ${frames}`);
  if (height % ss !== 0) throw new InvalidArgumentError('spec.height', `must be a multiple of ${ss} (the model's spatial latent factor), got ${height}`);
  if (width % ss !== 0) throw new InvalidArgumentError('spec.width', `must be a multiple of ${ss} (the model's spatial latent factor), got ${width}`);
  const fps = raw.fps || SPEC_DEFAULTS.fps;
  intIn('spec.fps', fps, 1, limits.maxFps);
  const steps = raw.steps || SPEC_DEFAULTS.steps;
  intIn('spec.steps', steps, 1, Math.min(limits.maxSteps, m.trainSchedule.numTrainTimesteps));
  const process = m.process ?? 'vp';
  const allowed: readonly SchedulerKind[] = process === 'flow' ? ['flow_euler'] : SCHEDULER_KINDS.filter((k) => k !== 'flow_euler');
  const scheduler = (raw.scheduler || m.defaultScheduler?.kind || (process === 'flow' ? 'flow_euler' : 'ddim')) as SchedulerKind;
  if (!allowed.includes(scheduler)) {
    throw new InvalidArgumentError('spec.scheduler', `must be one of ${allowed.join(', ')} for ${process === 'flow' ? 'the flow-matching' : 'the VP'} model ${quoteBounded(modelName)}, got ${quoteBounded(raw.scheduler)}`);
  }
  if (!Number.isFinite(raw.eta) || raw.eta < 0 || raw.eta > 1) throw new InvalidArgumentError('spec.eta', `must be in [0, 1], got ${raw.eta}`);
  if (raw.eta !== 0 && scheduler !== 'ddim') throw new InvalidArgumentError('spec.eta', `applies to ddim only; ${scheduler} takes no eta`);
  const seed = validSeed(raw.seed);
  // Guidance scale (the model's default when unset) and uploaded conditioning tensors: coordinator/conditioning.
  const guidance = resolveGuidance(raw, m);

  const rawSampler = raw.sampler ?? { kind: '', window: 0, tolerance: 0, policy: '' };
  const samplerKind = rawSampler.kind || defaultSampler;
  if (!(SAMPLER_KINDS as readonly string[]).includes(samplerKind)) throw new InvalidArgumentError('spec.sampler.kind', `must be one of ${SAMPLER_KINDS.join(', ')}, got ${quoteBounded(rawSampler.kind)}`);
  let sampler: ValidSpec['sampler'] = { kind: 'sequential', window: 0, tolerance: 0, policy: '' };
  if (samplerKind === 'picard' || samplerKind === 'auto') {
    const auto = samplerKind === 'auto';
    const maxWindow = Math.min(limits.maxSteps, limits.maxWindow);
    // auto: the largest window it may pick; unset, the limit (the engine keeps it within the steps).
    const window = rawSampler.window || (auto ? maxWindow : SPEC_DEFAULTS.picardWindow);
    intIn('spec.sampler.window', window, 1, maxWindow);
    const tolerance = rawSampler.tolerance || (auto ? SPEC_DEFAULTS.autoTolerance : SPEC_DEFAULTS.picardTolerance);
    if (!Number.isFinite(tolerance) || tolerance <= 0 || tolerance > 10) throw new InvalidArgumentError('spec.sampler.tolerance', `must be in (0, 10], got ${rawSampler.tolerance}`);
    const policy = rawSampler.policy || (auto ? SPEC_DEFAULTS.autoPolicy : SPEC_DEFAULTS.picardPolicy);
    if (!(PICARD_POLICIES as readonly string[]).includes(policy)) throw new InvalidArgumentError('spec.sampler.policy', `must be one of ${PICARD_POLICIES.join(', ')}, got ${quoteBounded(policy)}`);
    sampler = { kind: samplerKind, window, tolerance, policy: policy as PicardPolicyName };
  } else if (rawSampler.window || rawSampler.tolerance || rawSampler.policy) {
    throw new InvalidArgumentError('spec.sampler.kind', 'must be "picard" or "auto" when window, tolerance or policy is set');
  }

  const layout = raw.layout ?? { chunkFrames: 0, tileSize: 0, blend: '', noiseInit: '' };
  if (layout.chunkFrames && layout.chunkFrames !== m.nativeFrames) {
    throw new InvalidArgumentError('spec.layout.chunk_frames', `must be the model's native ${m.nativeFrames} latent frames, got ${layout.chunkFrames}`);
  }
  if (layout.tileSize && layout.tileSize !== m.nativeHeight) {
    throw new InvalidArgumentError('spec.layout.tile_size', `must be the model's native ${m.nativeHeight} latent pixels, got ${layout.tileSize}`);
  }
  // Unset overlaps take the defaults; 0 asks for isolated windows.
  const chunkOverlap = layout.chunkOverlap ?? Math.min(SPEC_DEFAULTS.chunkOverlap, m.nativeFrames - 1);
  const tileOverlap = layout.tileOverlap ?? Math.min(SPEC_DEFAULTS.tileOverlap, m.nativeHeight - 1);
  intIn('spec.layout.chunk_overlap', chunkOverlap, 0, m.nativeFrames - 1);
  intIn('spec.layout.tile_overlap', tileOverlap, 0, Math.min(m.nativeHeight, m.nativeWidth) - 1);
  // Gaussian: the tapers that keep chunk seams invisible (see coordinator/layout/seams.ts).
  const blend = layout.blend || 'gaussian';
  if (!(BLENDS as readonly string[]).includes(blend)) throw new InvalidArgumentError('spec.layout.blend', `must be one of ${BLENDS.join(', ')}, got ${quoteBounded(blend)}`);
  const noiseInit = layout.noiseInit || 'independent';
  if (noiseInit !== 'independent' && noiseInit !== 'freenoise') throw new InvalidArgumentError('spec.layout.noise_init', `must be "independent" or "freenoise", got ${quoteBounded(layout.noiseInit)}`);
  const modeFields = validateModeFields(raw, m, limits.maxInputBytes);

  const output = raw.output ?? { format: '', crf: 0 };
  const format = output.format || 'mp4';
  if (!(FORMATS as readonly string[]).includes(format)) throw new InvalidArgumentError('spec.output.format', `must be one of ${FORMATS.join(', ')}, got ${quoteBounded(format)}`);
  if ((format === 'mp4' || format === 'webm') && (height % 2 || width % 2)) throw new InvalidArgumentError('spec.height', 'and spec.width must be even for video output');
  const crf = output.crf || SPEC_DEFAULTS.crf;
  intIn('spec.output.crf', crf, 0, 51);
  if (!Number.isInteger(raw.priority) || Math.abs(raw.priority) > 100) throw new InvalidArgumentError('spec.priority', `must be an integer in [-100, 100], got ${raw.priority}`);

  // Prompts: one prompt, or a schedule starting at frame 0 in increasing order.
  if (raw.prompt && raw.promptSchedule.length) throw new InvalidArgumentError('spec.prompt', 'and spec.prompt_schedule are exclusive; give one');
  const schedule = raw.promptSchedule.length ? raw.promptSchedule.map((s) => ({ fromFrame: s.fromFrame, prompt: s.prompt })) : [{ fromFrame: 0, prompt: raw.prompt }];
  schedule.forEach((s, i) => {
    const field = raw.promptSchedule.length ? `spec.prompt_schedule[${i}]` : 'spec';
    if (i === 0 && s.fromFrame !== 0) throw new InvalidArgumentError(`${field}.from_frame`, 'of the first segment must be 0');
    if (i > 0 && s.fromFrame <= schedule[i - 1]!.fromFrame) throw new InvalidArgumentError(`${field}.from_frame`, 'must increase from segment to segment');
    if (s.fromFrame >= frames) throw new InvalidArgumentError(`${field}.from_frame`, `must be below spec.frames (${frames})`);
    if (s.prompt.length > 1000) throw new InvalidArgumentError(`${field}.prompt`, 'is longer than 1000 characters');
    if (m.inputs.classWeights) promptToClassWeights(s.prompt, m.classes, `${field}.prompt`);
  });
  const previews = validatePreviewSpec(raw.previews, m, frames / ts);
  const conditioning = validateJobConditioning(raw.conditioning, m, schedule.length, { height: height / ss, width: width / ss }, { imageFromInput: modeFields.mode === 'image_to_video' });

  return {
    model: modelName,
    prompt: raw.prompt,
    promptSchedule: schedule,
    negativePrompt: raw.negativePrompt,
    guidance,
    frames,
    height,
    width,
    fps,
    steps,
    scheduler,
    eta: raw.eta,
    seed,
    sampler,
    layout: { chunkFrames: m.nativeFrames, chunkOverlap, tileSize: m.nativeHeight, tileOverlap, blend: blend as ValidSpec['layout']['blend'], noiseInit },
    output: { format: format as ValidSpec['output']['format'], crf },
    priority: raw.priority,
    mode: modeFields.mode,
    strength: modeFields.strength,
    ...(conditioning ? { conditioning } : {}),
    ...(previews ? { previews } : {}),
  };
}

/** Resolved prompt schedule: class weights per segment. */
export function resolvePrompts(spec: ValidSpec, m: DenoiserManifest): ResolvedSegment[] {
  // Models without class weights take their prompts as uploaded embeddings (coordinator/conditioning).
  if (!m.inputs.classWeights) return spec.promptSchedule.map((s) => ({ fromFrame: s.fromFrame, classWeights: new Float32Array(0) }));
  return spec.promptSchedule.map((s, i) => ({ fromFrame: s.fromFrame, classWeights: promptToClassWeights(s.prompt, m.classes, `spec.prompt_schedule[${i}].prompt`) }));
}

/**
 * The wire form of a validated spec (what Get returns): one that Submit takes
 * back as the same job. Defaults come back filled in; the prompt comes back as
 * `prompt` when there is one segment, else as `prompt_schedule`, never both.
 * Uploaded bytes are not echoed (docs/job-spec.md).
 */
export function specToProto(s: ValidSpec): JobSpec {
  // validateSpec keeps the client's `prompt` and always fills the schedule; a
  // schedule given by the client leaves `prompt` empty (they are exclusive).
  const single = s.promptSchedule.length === 1 && s.promptSchedule[0]!.prompt === s.prompt;
  return {
    model: s.model,
    prompt: single ? s.prompt : '',
    promptSchedule: single ? [] : s.promptSchedule,
    negativePrompt: s.negativePrompt,
    guidance: s.guidance,
    frames: s.frames,
    height: s.height,
    width: s.width,
    fps: s.fps,
    steps: s.steps,
    scheduler: s.scheduler,
    eta: s.eta,
    seed: s.seed,
    sampler: s.sampler,
    layout: s.layout,
    output: s.output,
    priority: s.priority,
    mode: s.mode,
    ...(s.mode === 'video_to_video' ? { strength: s.strength } : {}),
    // The uploaded bytes are not echoed back: only their kind.
    ...(s.input ? { input: { kind: s.input.kind, data: Buffer.alloc(0) } } : {}),
    // Uploaded conditioning tensors: their shapes, not their values.
    ...(s.conditioning ? { conditioning: Object.fromEntries(Object.entries(s.conditioning).map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: Buffer.alloc(0) }])) } : {}),
    ...(s.previews ? { previews: previewSpecToProto(s.previews) } : {}),
  };
}

/** The wire's uint64 (a number, or a decimal string above 2^53: common/proto/load.ts) as a `Seed`. */
function validSeed(v: unknown): Seed {
  try {
    return toSeed(v);
  } catch (err) {
    throw new InvalidArgumentError('spec.seed', (err as Error).message);
  }
}

function intIn(field: string, v: number, min: number, max: number, why?: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(field, `must be an integer in [${min}, ${max}], got ${v}${why ? ` (${why})` : ''}`);
  }
}
