import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../common/rng.ts';
import { FIELD_COMPONENTS, FIELD_WINDOW, type FieldWindow } from '../models/field-mixture/components.ts';
import { FieldMixtureReference } from '../models/field-mixture/reference.ts';
import { FIELD_TRAIN_SCHEDULE } from '../models/field-mixture/tables.ts';
import { FIELD_VAE_SCALE } from '../models/field-vae/build.ts';
import { ensureReferenceModels } from '../models/registry.ts';
import type { RgbFrames } from './looks-metrics.ts';

/**
 * Exact prior samples of one field-mixture component, decoded to RGB by the
 * real field-decoder ONNX graph (the file the workers load).
 *
 * The sample is drawn on a 64 x 64 latent window (256 x 256 pixels, what the
 * demo renders) with the component's spectral density evaluated on that
 * window's frequency grid: the same stationary field the model's 32 x 32
 * windows hold, on a larger torus, so the picture has no 32-pixel period.
 * The pipeline covers a 64 x 64 latent with overlapping native windows of
 * that field; this is the picture it approximates, without sampler error.
 */

/** Latent window of a 256 x 256, 16-frame render. */
export const LOOKS_WINDOW: FieldWindow = { ...FIELD_WINDOW, height: 64, width: 64 };

/** The decoder session over the cached reference models (built on first use). */
export async function openFieldDecoder(modelDir?: string): Promise<ort.InferenceSession> {
  const dir = modelDir ?? (await ensureReferenceModels());
  return ort.InferenceSession.create(join(dir, 'field-decoder', 'model.onnx'), { intraOpNumThreads: 1 });
}

/** Latent [C, F, H, W] -> frames [F, C, H, W] (what the decoder takes, one frame per batch item). */
export function framesFirst(latent: Float32Array, win: FieldWindow): Float32Array {
  const { channels: C, frames: F, height: H, width: W } = win;
  const n = H * W;
  const out = new Float32Array(latent.length);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) out.set(latent.subarray((c * F + f) * n, (c * F + f + 1) * n), (f * C + c) * n);
  }
  return out;
}

/** Decodes a latent [C, F, H, W] to RGB frames [F, 3, sH, sW]. */
export async function decodeLatent(decoder: ort.InferenceSession, latent: Float32Array, win: FieldWindow): Promise<RgbFrames> {
  const { channels: C, frames: F, height: H, width: W } = win;
  const out = await decoder.run({ latent: new ort.Tensor('float32', framesFirst(latent, win), [F, C, H, W]) });
  const rgb = out[decoder.outputNames[0]!]!;
  return { data: rgb.data as Float32Array, frames: F, height: H * FIELD_VAE_SCALE, width: W * FIELD_VAE_SCALE };
}

/** The float64 prior on `win` (frames, channels and spectra of the shipped components). */
export function looksPrior(win: FieldWindow = LOOKS_WINDOW): FieldMixtureReference {
  return new FieldMixtureReference(FIELD_COMPONENTS, FIELD_TRAIN_SCHEDULE, win);
}

/** One exact prior sample of component k on `win`, seeded, decoded by `decoder`. */
export async function renderComponent(
  decoder: ort.InferenceSession,
  prior: FieldMixtureReference,
  componentIndex: number,
  seed: number,
): Promise<RgbFrames> {
  const latent = prior.samplePrior(new Rng(seed, componentIndex), componentIndex);
  return decodeLatent(decoder, latent, prior.window);
}
