/**
 * What the random-weight stand-in denoisers (tiny-unet3d, tiny-dit,
 * tiny-svd) declare alike in their manifests: one `model.onnx` over a fixed
 * latent window, the field VAE (4x spatial scale) as decoder and encoder,
 * Stable Diffusion's training schedule, `sample`/`timestep` inputs, no
 * classes, batches of up to 16. Each stand-in adds what makes it itself
 * (description, parameterisation, scheduler, conditioning, guidance, output).
 */
import type { DenoiserManifest } from '../common/manifest.ts';
import { DEFAULT_TRAIN_SCHEDULE } from '../common/noise-schedule.ts';

/** The latent window of a stand-in and its name. */
export interface StandinWindow {
  readonly name: string;
  readonly channels: number;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/** The manifest fields that differ from stand-in to stand-in. */
export type StandinManifestFields = Omit<
  DenoiserManifest,
  'kind' | 'name' | 'file' | 'latentChannels' | 'nativeFrames' | 'nativeHeight' | 'nativeWidth' | 'vaeScale' | 'trainSchedule' | 'inputs' | 'classes' | 'decoder' | 'encoder' | 'maxBatch'
>;

/** The manifest of a stand-in denoiser over `window`, with its own `fields`. */
export function standinDenoiserManifest(window: StandinWindow, fields: StandinManifestFields): DenoiserManifest {
  return {
    kind: 'denoiser',
    name: window.name,
    file: 'model.onnx',
    latentChannels: window.channels,
    nativeFrames: window.frames,
    nativeHeight: window.height,
    nativeWidth: window.width,
    vaeScale: { spatial: 4, temporal: 1 },
    trainSchedule: { ...DEFAULT_TRAIN_SCHEDULE },
    inputs: { sample: 'sample', timestep: 'timestep' },
    classes: [],
    decoder: 'field-decoder',
    encoder: 'field-encoder',
    maxBatch: 16,
    ...fields,
  };
}
