import type { InputReaderOptions } from '../video/input-reader.ts';
import type { WorkerPool } from '../cluster/worker-pool.ts';
import type { LatentDims } from '../layout/types.ts';
import { prepareInput, type PreparedInput } from '../modes/prepare-input.ts';
import { InputMediaError } from '../video/errors.ts';
import type { InputStore } from './ports.ts';
import type { ValidSpec } from './spec.ts';

/**
 * The render's side of a job's uploaded input: decode and encode it into the
 * mode's known region (see `modes/prepare-input.ts`), then delete the
 * upload, which no later stage needs — except with a shared input store,
 * where a coordinator taking the job over reads it again (the render deletes
 * it when the job ends). Undefined for text_to_video.
 */
export async function loadJobInput(opts: {
  spec: ValidSpec;
  dims: LatentDims;
  spatialScale: number;
  pool: WorkerPool;
  inputs: InputStore;
  signal?: AbortSignal;
  /** Decoder limits (the coordinator's input pixel limit). */
  reader?: InputReaderOptions;
}): Promise<PreparedInput | undefined> {
  const { spec, inputs } = opts;
  if (spec.mode === 'text_to_video') return undefined;
  if (!spec.input) throw new Error(`job in mode ${spec.mode} has no stored input`);
  const ref = spec.input.ref;
  const shared = inputs.materialize !== undefined;
  try {
    await inputs.materialize?.(ref);
    return await prepareInput({
      mode: spec.mode,
      strength: spec.strength,
      steps: spec.steps,
      input: spec.input,
      dims: opts.dims,
      spatialScale: opts.spatialScale,
      path: inputs.path(ref),
      encode: (frames, shape, signal) => opts.pool.encode(spec.model, frames, shape, signal),
      signal: opts.signal,
      reader: opts.reader,
    });
  } catch (err) {
    // Submit probed the input; a failure to decode it now still names the field it came from.
    if (err instanceof InputMediaError) throw new Error(`spec.input.data ${err.message}`, { cause: err });
    throw err;
  } finally {
    if (!shared) await inputs.delete(ref);
  }
}
