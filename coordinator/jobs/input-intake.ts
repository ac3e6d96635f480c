import { InvalidArgumentError } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { InputMedia__Output } from '../../common/proto/generated/propeller/v1/InputMedia.ts';
import { InputMediaError } from '../video/errors.ts';
import { probeInput, type InputReaderOptions } from '../video/input-reader.ts';
import { checkInputFits, type ValidInput } from './modes.ts';
import type { InputStore } from './ports.ts';
import type { ValidSpec } from './spec.ts';

/**
 * Takes in a job's uploaded input at Submit: stores the bytes in a private
 * file, probes it with ffprobe and checks it fits the job. A file that is
 * not an image or a video, or does not fit, is an InvalidArgumentError
 * naming the field, and nothing is kept. The caller deletes the input when
 * the job is not created after all.
 */
export async function intakeInput(
  raw: InputMedia__Output,
  spec: ValidSpec,
  m: DenoiserManifest,
  store: InputStore,
  reader: InputReaderOptions = {},
): Promise<ValidInput> {
  const ref = await store.put(raw.data);
  try {
    const probe = await probeInput(store.path(ref), reader).catch((err: unknown) => {
      if (err instanceof InputMediaError) throw new InvalidArgumentError('spec.input.data', err.message, { cause: err });
      throw err;
    });
    const kindHint = raw.kind as '' | 'image' | 'video';
    const fits = checkInputFits({ mode: spec.mode, strength: spec.strength, kindHint }, probe, spec, m);
    return { ref, bytes: raw.data.length, ...fits };
  } catch (err) {
    await store.delete(ref);
    throw err;
  }
}
