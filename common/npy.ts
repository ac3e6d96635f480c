/**
 * Reads NumPy `.npy` files (format 1.0-3.0): little-endian float32,
 * float16 or float64 arrays in C order, which is how `np.save` writes
 * `prompt_embeds.cpu().numpy()` from a diffusers pipeline. The CLI uploads
 * such arrays as job tensors (`propeller submit --tensor NAME=FILE.npy`).
 */

/** A decoded array: shape and float32 values. */
import { halfToFloat } from './tensor-codec.ts';
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = '\x93NUMPY';

/** Parses `.npy` bytes; errors say what is unsupported. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== MAGIC) throw new Error('not a .npy file (bad magic)');
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`.npy header not understood: ${header.trim()}`);
  if (fortran === 'True') throw new Error('.npy array is in Fortran order; save a C-contiguous array (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const n = shape.reduce((p, d) => p * d, 1);
  const body = start + headerLen;
  const data = new Float32Array(n);
  const need = (width: number) => {
    if (buf.length - body < n * width) throw new Error(`.npy data is truncated: ${buf.length - body} bytes for ${n} values of ${width} bytes`);
  };
  switch (descr) {
    case '<f4':
      need(4);
      for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(body + 4 * i);
      break;
    case '<f8':
      need(8);
      for (let i = 0; i < n; i++) data[i] = buf.readDoubleLE(body + 8 * i);
      break;
    case '<f2':
      need(2);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(buf.readUInt16LE(body + 2 * i));
      break;
    default:
      throw new Error(`.npy dtype ${descr} is not supported (float16, float32 or float64, little-endian)`);
  }
  return { shape, data };
}

/** `.npy` bytes (format 1.0, float32, C order) of an array: what the tests and tools write. */
export function formatNpy(shape: readonly number[], data: Float32Array): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + data.length * 4);
  out.write(MAGIC, 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i]!, 10 + header.length + 4 * i);
  return out;
}
