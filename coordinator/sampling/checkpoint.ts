/**
 * Sampler checkpoints: the state of the sequential or Picard engine between
 * two advances, as bytes, so a job can go on elsewhere bit for bit.
 *
 * What a checkpoint holds: the engine kind, its position (completed steps, or
 * the Picard window with its iterates, counters and policy state), every
 * latent it needs as raw float32, and a fingerprint of the run it belongs to
 * (scheduler, steps, seed, sampler settings, latent shape) that `resume`
 * checks, so a checkpoint is never applied to another run. The RNG state is
 * the step index: step noise `z_i` comes from its own stream per step
 * (`step-noise.ts`), and the initial noise is consumed by step 0.
 *
 * Layout (little-endian):
 *
 *   bytes 0-3   magic "PCKP"
 *   bytes 4-7   version (uint32, 1)
 *   bytes 8-11  header length h (uint32)
 *   then h bytes of JSON header, zero-padded to a multiple of 4
 *   then `arrays` x `elements` float32 values
 */
import type { PicardState } from './picard.ts';
import type { SequentialState } from './sequential.ts';

export const CHECKPOINT_MAGIC = 'PCKP';
const VERSION = 1;

/** A checkpoint of either engine, with the caller's own counters (`extra`). */
export type SamplerCheckpoint =
  | { engine: 'sequential'; fingerprint: string; state: SequentialState; extra: Record<string, number> }
  | { engine: 'picard'; fingerprint: string; state: PicardState; extra: Record<string, number> };

interface Header {
  engine: 'sequential' | 'picard';
  fingerprint: string;
  elements: number;
  arrays: number;
  step?: number;
  begin?: number;
  end?: number;
  rounds?: number;
  evaluations?: number;
  policy?: number[];
  extra: Record<string, number>;
}

/** Thrown for bytes that are not a checkpoint, or a checkpoint of another run. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** Serialises a checkpoint; copies the latents, so the engine may reuse its buffers afterwards. */
export function encodeSamplerCheckpoint(cp: SamplerCheckpoint): Uint8Array {
  const arrays = cp.engine === 'sequential' ? [cp.state.sample] : cp.state.points;
  const elements = arrays[0]?.length ?? 0;
  if (arrays.some((a) => a.length !== elements)) throw new RangeError('checkpoint latents differ in length');
  const header: Header =
    cp.engine === 'sequential'
      ? { engine: cp.engine, fingerprint: cp.fingerprint, elements, arrays: 1, step: cp.state.step, extra: cp.extra }
      : {
          engine: cp.engine,
          fingerprint: cp.fingerprint,
          elements,
          arrays: arrays.length,
          begin: cp.state.begin,
          end: cp.state.end,
          rounds: cp.state.rounds,
          evaluations: cp.state.evaluations,
          policy: cp.state.policy,
          extra: cp.extra,
        };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = (json.length + 3) & ~3;
  const offset = 12 + padded;
  const out = Buffer.alloc(offset + 4 * elements * arrays.length);
  out.write(CHECKPOINT_MAGIC, 0, 'ascii');
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = offset;
  for (const a of arrays) {
    for (let k = 0; k < a.length; k++, at += 4) view.setFloat32(at, a[k]!, true);
  }
  return out;
}

/** Parses a checkpoint; with `fingerprint`, rejects one taken from another run. */
export function decodeSamplerCheckpoint(bytes: Uint8Array, fingerprint?: string): SamplerCheckpoint {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== CHECKPOINT_MAGIC) throw new CheckpointError('not a sampler checkpoint (bad magic)');
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new CheckpointError(`checkpoint version ${version} is not supported (expected ${VERSION})`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw new CheckpointError('checkpoint header is truncated');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as Header;
  } catch (err) {
    throw new CheckpointError('checkpoint header is not JSON', { cause: err });
  }
  if (fingerprint !== undefined && header.fingerprint !== fingerprint) {
    throw new CheckpointError(`checkpoint belongs to another run (fingerprint ${header.fingerprint}, expected ${fingerprint})`);
  }
  const offset = 12 + ((hlen + 3) & ~3);
  const { elements, arrays } = header;
  if (!Number.isInteger(elements) || !Number.isInteger(arrays) || buf.length !== offset + 4 * elements * arrays) {
    throw new CheckpointError(`checkpoint has ${buf.length} bytes, expected ${offset + 4 * elements * arrays}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const latents: Float32Array[] = [];
  let at = offset;
  for (let j = 0; j < arrays; j++) {
    const a = new Float32Array(elements);
    for (let k = 0; k < elements; k++, at += 4) a[k] = view.getFloat32(at, true);
    latents.push(a);
  }
  if (header.engine === 'sequential') {
    return { engine: 'sequential', fingerprint: header.fingerprint, state: { step: header.step!, sample: latents[0]! }, extra: header.extra ?? {} };
  }
  if (header.engine === 'picard') {
    return {
      engine: 'picard',
      fingerprint: header.fingerprint,
      state: { begin: header.begin!, end: header.end!, points: latents, rounds: header.rounds!, evaluations: header.evaluations!, policy: header.policy ?? [] },
      extra: header.extra ?? {},
    };
  }
  throw new CheckpointError(`checkpoint of unknown engine "${String(header.engine)}"`);
}

/** Completed steps of a checkpoint (Picard: the converged prefix). */
export function checkpointStep(cp: SamplerCheckpoint): number {
  return cp.engine === 'sequential' ? cp.state.step : cp.state.begin;
}
