import { InvalidArgumentError, quoteBounded } from '../../common/errors.ts';
import { conditioningShape, type DenoiserManifest } from '../../common/manifest.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { decodeTensor, type HostTensor } from '../../common/tensor-codec.ts';

/**
 * Tensors uploaded with a job (`spec.conditioning`), checked at Submit
 * against what the model's manifest forms from them, and kept in the
 * validated spec in a JSON-safe form (shape + base64 of little-endian
 * float32), so job stores can persist the spec as it is.
 */

/** One stored job tensor. */
export interface StoredTensor {
  shape: number[];
  /** base64 of the float32 little-endian values. */
  data: string;
}

/** Largest job tensor accepted, in elements (a 257 x 4096 embedding fits). */
export const MAX_JOB_TENSOR_ELEMENTS = 1 << 20;

/**
 * Validates `raw` (the Submit request's map) for model `m` with `segments`
 * prompt-schedule segments and latent size `latent` ([h, w]) (`imageFromInput`:
 * an image_to_video job, whose input image provides image latents); returns the
 * tensors to keep, or undefined when the model takes none. Errors name the
 * field (`spec.conditioning.prompt_embeds.shape`).
 */
export function validateJobConditioning(
  raw: Record<string, Tensor__Output> | undefined,
  m: DenoiserManifest,
  segments: number,
  latent: { height: number; width: number },
  opts: { imageFromInput?: boolean } = {},
): Record<string, StoredTensor> | undefined {
  const given = raw ?? {};
  const wanted = new Map<string, { required: boolean; shapes: number[][]; what: string }>();
  for (const c of m.conditioning ?? []) {
    if (c.source === 'embeddings') {
      const per = conditioningShape(c);
      const shapes = [per, [segments, ...per]];
      // With a text encoder on the workers, the job's prompts stand in for uploaded embeddings.
      wanted.set(c.from, { required: !c.textEncoder, shapes, what: `embeddings for "${c.input}"` });
      if (c.negativeFrom) wanted.set(c.negativeFrom, { required: false, shapes, what: `unconditional embeddings for "${c.input}"` });
    } else if (c.source === 'image_latent') {
      // image_to_video: the input image, encoded by the model's VAE, is the image latent unless one is uploaded.
      const fromInput = !!opts.imageFromInput && c.channels === m.latentChannels;
      wanted.set(c.from, { required: !fromInput, shapes: [[c.channels, latent.height, latent.width]], what: 'the conditioning image latent at the job\'s latent size (or an input image with mode image_to_video)' });
    }
  }
  const out: Record<string, StoredTensor> = {};
  for (const [name, t] of Object.entries(given)) {
    const field = `spec.conditioning.${name}`;
    const want = wanted.get(name);
    if (!want) {
      throw new InvalidArgumentError('spec.conditioning', `has unknown tensor ${quoteBounded(name)}; model "${m.name}" takes ${wanted.size ? [...wanted.keys()].join(', ') : 'none'}`);
    }
    const host = decodeTensor(t, field, { requireFinite: true, maxElements: MAX_JOB_TENSOR_ELEMENTS });
    if (!want.shapes.some((s) => sameShape(s, host.shape))) {
      throw new InvalidArgumentError(`${field}.shape`, `must be ${want.shapes.map((s) => `[${s.join(', ')}]`).join(' or ')} (${want.what}), got [${host.shape.join(', ')}]`);
    }
    out[name] = storeTensor(host);
  }
  for (const [name, want] of wanted) {
    if (want.required && !out[name]) {
      throw new InvalidArgumentError(`spec.conditioning.${name}`, `is missing: model "${m.name}" needs ${want.what}, shape ${want.shapes.map((s) => `[${s.join(', ')}]`).join(' or ')}`);
    }
  }
  return wanted.size ? out : undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The JSON-safe form of a tensor. */
export function storeTensor(t: HostTensor): StoredTensor {
  const bytes = Buffer.alloc(t.data.length * 4);
  for (let i = 0; i < t.data.length; i++) bytes.writeFloatLE(t.data[i]!, 4 * i);
  return { shape: [...t.shape], data: bytes.toString('base64') };
}

/** Back from the JSON-safe form. */
export function loadTensor(t: StoredTensor): HostTensor {
  const bytes = Buffer.from(t.data, 'base64');
  const data = new Float32Array(bytes.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(4 * i);
  return { shape: [...t.shape], data };
}
