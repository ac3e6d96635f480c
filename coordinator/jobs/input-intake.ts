import { InvalidArgumentError } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { InputMedia__Output } from '../../common/proto/generated/propeller/v1/InputMedia.ts';
import { InputMediaError } from '../video/errors.ts';
import { imageHeaderSize } from '../video/image-header.ts';
import { DEFAULT_MAX_INPUT_PIXELS, probeInput, type InputReaderOptions } from '../video/input-reader.ts';
import { checkInputFits, type ValidInput } from './modes.ts';
import type { InputStore } from './ports.ts';
import type { ValidSpec } from './spec.ts';

/**
 * Takes in a job's uploaded input at Submit: refuses an image whose header
 * names a picture above `reader.maxPixels` (a decompression bomb) before
 * anything runs, stores the bytes in a private file, probes it with ffprobe
 * (under the same pixel limit, counting at most the frames the job can use)
 * and checks it fits the job. A file that is not an image or a video, is
 * too large, or does not fit, is an InvalidArgumentError naming the field,
 * and nothing is kept. The caller deletes the input when the job is not
 * created after all.
 */
export async function intakeInput(
  raw: InputMedia__Output,
  spec: ValidSpec,
  m: DenoiserManifest,
  store: InputStore,
  reader: InputReaderOptions = {},
): Promise<ValidInput> {
  const maxPixels = reader.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const header = imageHeaderSize(raw.data);
  if (header && header.width * header.height > maxPixels) {
    throw new InvalidArgumentError('spec.input.data', `is a ${header.format} image of ${header.width}x${header.height}, ${header.width * header.height} pixels; inputs may have at most ${maxPixels}`);
  }
  const ref = await store.put(raw.data);
  try {
    // One frame more than the job has tells every mode whether the input is long enough.
    const probe = await probeInput(store.path(ref), { ...reader, maxPixels, countFrames: spec.frames + 1 }).catch((err: unknown) => {
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
