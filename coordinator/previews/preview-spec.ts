/**
 * A job's live-preview settings (`spec.previews`, docs/previews.md): how
 * often, how many frames, how wide, and where the colours come from.
 */
import { InvalidArgumentError, quoteBounded } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { PreviewSpec, PreviewSpec__Output } from '../../common/proto/generated/propeller/v1/PreviewSpec.ts';

/** Where a preview's colours come from. */
export const PREVIEW_SOURCES = ['auto', 'map', 'decoder'] as const;
export type PreviewSource = (typeof PREVIEW_SOURCES)[number];

/** `spec.previews` after validation, defaults filled in. */
export interface ValidPreviewSpec {
  /** Least time between two previews; 0: after every step that finds none in the making. */
  everySeconds: number;
  /** Frames side by side in a preview strip. */
  frames: number;
  /** Width of a preview image in pixels. */
  width: number;
  source: PreviewSource;
}

export const PREVIEW_DEFAULTS = { everySeconds: 5, frames: 4, width: 512, source: 'auto' } as const;
/** Bounds: a preview is a thumbnail on a Watch stream, never a second video. */
export const PREVIEW_LIMITS = { maxEverySeconds: 3600, maxFrames: 16, minWidth: 64, maxWidth: 512 } as const;

/**
 * Validates `spec.previews` (absent: no previews) for a job of model `m`;
 * errors name the field. `auto` resolves to the model's preview map when its
 * manifest declares one, else its decoder; a model with neither has no previews.
 */
export function validatePreviewSpec(raw: PreviewSpec__Output | null | undefined, m: DenoiserManifest, latentFrames: number): ValidPreviewSpec | undefined {
  if (!raw) return undefined;
  const everySeconds = raw.everySeconds ?? PREVIEW_DEFAULTS.everySeconds;
  if (!Number.isFinite(everySeconds) || everySeconds < 0 || everySeconds > PREVIEW_LIMITS.maxEverySeconds) {
    throw new InvalidArgumentError('spec.previews.every_seconds', `must be in [0, ${PREVIEW_LIMITS.maxEverySeconds}], got ${raw.everySeconds}`);
  }
  const frames = raw.frames || PREVIEW_DEFAULTS.frames;
  if (!Number.isInteger(frames) || frames > PREVIEW_LIMITS.maxFrames) throw new InvalidArgumentError('spec.previews.frames', `must be an integer in [1, ${PREVIEW_LIMITS.maxFrames}], got ${raw.frames}`);
  const width = raw.width || PREVIEW_DEFAULTS.width;
  if (!Number.isInteger(width) || width < PREVIEW_LIMITS.minWidth || width > PREVIEW_LIMITS.maxWidth) {
    throw new InvalidArgumentError('spec.previews.width', `must be an integer in [${PREVIEW_LIMITS.minWidth}, ${PREVIEW_LIMITS.maxWidth}], got ${raw.width}`);
  }
  const asked = raw.source || PREVIEW_DEFAULTS.source;
  if (!(PREVIEW_SOURCES as readonly string[]).includes(asked)) throw new InvalidArgumentError('spec.previews.source', `must be one of ${PREVIEW_SOURCES.join(', ')}, got ${quoteBounded(raw.source)}`);
  const source = asked === 'auto' ? (m.previewMap ? 'map' : 'decoder') : (asked as PreviewSource);
  if (source === 'map' && !m.previewMap) throw new InvalidArgumentError('spec.previews.source', `is "map", but model ${quoteBounded(m.name)} declares no preview map; use "decoder" or "auto"`);
  if (source === 'decoder' && !m.decoder) throw new InvalidArgumentError('spec.previews', `model ${quoteBounded(m.name)} declares neither a preview map nor a decoder: it has no previews`);
  // More frames than the video has would repeat frames side by side.
  return { everySeconds, frames: Math.min(frames, latentFrames), width, source };
}

/** The wire form of validated preview settings (defaults filled in, `auto` resolved). */
export function previewSpecToProto(p: ValidPreviewSpec): PreviewSpec {
  return { everySeconds: p.everySeconds, frames: p.frames, width: p.width, source: p.source };
}
