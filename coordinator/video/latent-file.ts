import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * The `latent` output format: a small header, then the float32 latent,
 * little-endian, row-major [C, F, H, W].
 *
 *   bytes 0-3   magic "PLAT"
 *   bytes 4-7   version (uint32, 1)
 *   bytes 8-11  rank (uint32, 4)
 *   then rank x uint32 dims, then the data
 */
export const LATENT_MAGIC = 'PLAT';

export function latentHeader(shape: readonly number[]): Buffer {
  const header = Buffer.alloc(12 + 4 * shape.length);
  header.write(LATENT_MAGIC, 0, 'ascii');
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(shape.length, 8);
  shape.forEach((d, i) => header.writeUInt32LE(d, 12 + 4 * i));
  return header;
}

/** Writes a latent file in slices (never one giant buffer copy). */
export async function writeLatentFile(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const out = createWriteStream(path);
  const write = async (buf: Buffer) => {
    if (!out.write(buf)) await once(out, 'drain');
  };
  await write(latentHeader(shape));
  const slice = 1 << 18;
  for (let i = 0; i < data.length; i += slice) {
    const part = data.subarray(i, Math.min(data.length, i + slice));
    const buf = Buffer.alloc(part.length * 4);
    for (let k = 0; k < part.length; k++) buf.writeFloatLE(part[k]!, k * 4);
    await write(buf);
  }
  out.end();
  await once(out, 'finish');
}

/** Parses a latent file's bytes. */
export function readLatent(bytes: Buffer): { shape: number[]; data: Float32Array } {
  if (bytes.toString('ascii', 0, 4) !== LATENT_MAGIC) throw new Error('not a Propeller latent file (bad magic)');
  const rank = bytes.readUInt32LE(8);
  const shape = Array.from({ length: rank }, (_, i) => bytes.readUInt32LE(12 + 4 * i));
  const offset = 12 + 4 * rank;
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + 4 * n) throw new Error(`latent file has ${bytes.length} bytes, expected ${offset + 4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(offset + 4 * i);
  return { shape, data };
}
