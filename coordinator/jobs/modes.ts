/**
 * Validation of a job's mode, its uploaded input and `strength`.
 *
 * Two stages: {@link validateModeFields} checks the spec alone (at Submit,
 * before anything is stored), {@link checkInputFits} checks the probed input
 * against the job (frames, picture size). Errors name the field.
 */
import { InvalidArgumentError, quoteBounded } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { JobSpec__Output } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { InputProbe } from '../video/input-reader.ts';
import { containedRect } from '../modes/geometry.ts';

/** What a job does: generate from text, or start from / keep an uploaded input. */
export const JOB_MODES = ['text_to_video', 'image_to_video', 'video_to_video', 'extend', 'expand'] as const;

/** One of {@link JOB_MODES}. */
export type JobMode = (typeof JOB_MODES)[number];

/** video_to_video's strength when the spec leaves it unset. */
export const DEFAULT_STRENGTH = 0.6;

/** An uploaded input after Submit stored and probed it (the bytes stay in the InputStore). */
export interface ValidInput {
  /** InputStore reference. */
  ref: string;
  /** `image` is used as one picture (repeated over frames where a mode needs frames). */
  kind: 'image' | 'video';
  frames: number;
  width: number;
  height: number;
  bytes: number;
}

/** The mode fields of a spec, validated, before the input is probed. */
export interface ModeFields {
  mode: JobMode;
  /** The SDEdit strength for video_to_video; 0 for the other modes. */
  strength: number;
  /** The input's kind hint (`''`: detect from the data). */
  kindHint: '' | 'image' | 'video';
}

/**
 * Checks `spec.mode`, `spec.input` and `spec.strength` against each other,
 * the model and the input size limit.
 */
export function validateModeFields(raw: JobSpec__Output, m: DenoiserManifest, maxInputBytes: number): ModeFields {
  const mode = (raw.mode || 'text_to_video') as JobMode;
  if (!JOB_MODES.includes(mode)) throw new InvalidArgumentError('spec.mode', `must be one of ${JOB_MODES.join(', ')}, got ${quoteBounded(raw.mode)}`);
  const input = raw.input ?? null;
  if (mode === 'text_to_video') {
    if (input) throw new InvalidArgumentError('spec.input', `is only for ${JOB_MODES.slice(1).join(', ')}; text_to_video takes no input (set spec.mode)`);
  } else {
    if (!input) throw new InvalidArgumentError('spec.input', `is required for mode ${mode}: upload an image or a video as spec.input.data`);
    if (input.data.length === 0) throw new InvalidArgumentError('spec.input.data', `is empty; mode ${mode} needs an image or a video`);
    if (input.data.length > maxInputBytes) throw new InvalidArgumentError('spec.input.data', `has ${input.data.length} bytes, more than the limit ${maxInputBytes}`);
    if (input.kind !== '' && input.kind !== 'image' && input.kind !== 'video') throw new InvalidArgumentError('spec.input.kind', `must be "image", "video" or empty (detect), got ${quoteBounded(input.kind)}`);
    if (!m.encoder) throw new InvalidArgumentError('spec.mode', `${mode} needs the model's encoder, and model "${m.name}" names none`);
    // The Encode RPC maps frames to latent frames one to one.
    if (m.vaeScale.temporal !== 1) throw new InvalidArgumentError('spec.mode', `${mode} needs a per-frame VAE; model "${m.name}" packs ${m.vaeScale.temporal} frames per latent frame`);
  }
  let strength = 0;
  if (mode === 'video_to_video') {
    strength = raw.strength ?? DEFAULT_STRENGTH;
    if (!Number.isFinite(strength) || strength < 0 || strength > 1) throw new InvalidArgumentError('spec.strength', `must be in [0, 1], got ${raw.strength}`);
  } else if (raw.strength !== undefined) {
    throw new InvalidArgumentError('spec.strength', `applies to video_to_video only, not ${mode}`);
  }
  return { mode, strength, kindHint: (input?.kind ?? '') as ModeFields['kindHint'] };
}

/**
 * The probed input as the job will use it, or an error naming the field
 * when it does not fit: extend needs fewer input frames than `spec.frames`;
 * video_to_video and expand need `spec.frames` frames from a video (an
 * image is repeated); expand needs an input that fits the canvas on the
 * latent grid.
 */
export function checkInputFits(
  fields: ModeFields,
  probe: InputProbe,
  job: { frames: number; height: number; width: number },
  m: DenoiserManifest,
): Omit<ValidInput, 'ref' | 'bytes'> {
  const kind = fields.kindHint || probe.kind;
  if (kind === 'video') {
    if (fields.mode === 'extend' && probe.frames >= job.frames) {
      throw new InvalidArgumentError('spec.frames', `must be more than the input's ${probe.frames} frames for extend (it is the total length), got ${job.frames}`);
    }
    if ((fields.mode === 'video_to_video' || fields.mode === 'expand') && probe.frames < job.frames) {
      throw new InvalidArgumentError('spec.input.data', `has ${probe.frames} frames; ${fields.mode} needs at least spec.frames (${job.frames}), or an image`);
    }
  }
  if (fields.mode === 'expand' && !containedRect(probe.width, probe.height, job.width, job.height, m.vaeScale.spatial)) {
    throw new InvalidArgumentError('spec.input.data', `is ${probe.width}x${probe.height}: too thin to place inside ${job.width}x${job.height} on the latent grid`);
  }
  return { kind, frames: kind === 'image' ? 1 : probe.frames, width: probe.width, height: probe.height };
}
