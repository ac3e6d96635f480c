import type { Tensor } from './proto/generated/propeller/v1/Tensor.ts';
import type { Tensor__Output } from './proto/generated/propeller/v1/Tensor.ts';
import { InvalidArgumentError } from './errors.ts';

/**
 * Tensors on the wire: row-major, little-endian bytes with a dtype and shape.
 * Inside a process every float tensor is a Float32Array; float16 exists only
 * on the wire, where it halves the bytes of latents.
 */

export type WireDtype = 'float32' | 'float16' | 'int64' | 'uint8';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE 754 binary32 -> binary16 bits, round to nearest even, with inf/NaN and subnormals. */
export function floatToHalf(value: number): number {
  F32[0] = value;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf or NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into exponent: still correct
  return sign | half;
}

/** binary16 bits -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Encodes a float tensor for the wire. */
export function encodeTensor(data: Float32Array, shape: readonly number[], dtype: 'float32' | 'float16' = 'float16'): Tensor {
  checkSize(data.length, shape, 'tensor');
  if (dtype === 'float32') {
    const bytes = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) bytes.writeFloatLE(data[i]!, i * 4);
    return { dtype, shape: [...shape], data: bytes };
  }
  const bytes = Buffer.alloc(data.length * 2);
  for (let i = 0; i < data.length; i++) bytes.writeUInt16LE(floatToHalf(data[i]!), i * 2);
  return { dtype, shape: [...shape], data: bytes };
}

/** Encodes uint8 data (RGB frames). */
export function encodeUint8Tensor(data: Uint8Array, shape: readonly number[]): Tensor {
  checkSize(data.length, shape, 'tensor');
  return { dtype: 'uint8', shape: [...shape], data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Decodes a wire tensor into float32, validating dtype, shape and byte size.
 * `field` names the request field in errors. Throws InvalidArgumentError.
 */
export function decodeTensor(t: Tensor__Output | undefined | null, field: string, opts: { maxElements?: number } = {}): HostTensor {
  if (!t) throw new InvalidArgumentError(field, 'is missing');
  const shape = t.shape.map((d) => Number(d));
  if (shape.length === 0 || shape.length > 8) throw new InvalidArgumentError(`${field}.shape`, `must have 1 to 8 dimensions, got ${shape.length}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new InvalidArgumentError(`${field}.shape`, `has a non-positive or invalid dimension (${shape.join('x')})`);
    n *= d;
  }
  const max = opts.maxElements ?? 1 << 28;
  if (n > max) throw new InvalidArgumentError(`${field}.shape`, `has ${n} elements, more than the limit ${max}`);
  const bytes = t.data ?? Buffer.alloc(0);
  const width = dtypeWidth(t.dtype, field);
  if (bytes.length !== n * width) {
    throw new InvalidArgumentError(`${field}.data`, `has ${bytes.length} bytes, expected ${n * width} for ${t.dtype} ${shape.join('x')}`);
  }
  const data = new Float32Array(n);
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(i * 4);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) data[i] = halfToFloat(bytes.readUInt16LE(i * 2));
      break;
    case 'uint8':
      for (let i = 0; i < n; i++) data[i] = bytes[i]!;
      break;
    case 'int64':
      for (let i = 0; i < n; i++) data[i] = Number(bytes.readBigInt64LE(i * 8));
      break;
  }
  return { shape, data };
}

/** Raw uint8 view of a uint8 wire tensor (no copy). */
export function decodeUint8Tensor(t: Tensor__Output | undefined | null, field: string): { shape: number[]; data: Uint8Array } {
  if (!t) throw new InvalidArgumentError(field, 'is missing');
  if (t.dtype !== 'uint8') throw new InvalidArgumentError(`${field}.dtype`, `must be uint8, got "${t.dtype}"`);
  const shape = t.shape.map((d) => Number(d));
  const n = shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new InvalidArgumentError(`${field}.data`, `has ${t.data.length} bytes, expected ${n}`);
  return { shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

/** Bytes per element of a wire dtype. */
export function dtypeWidth(dtype: string, field = 'tensor'): number {
  switch (dtype) {
    case 'float32':
      return 4;
    case 'float16':
      return 2;
    case 'int64':
      return 8;
    case 'uint8':
      return 1;
    default:
      throw new InvalidArgumentError(`${field}.dtype`, `must be one of float32, float16, int64, uint8; got "${dtype}"`);
  }
}

/** True when every value is finite. */
export function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

function checkSize(length: number, shape: readonly number[], field: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== length) throw new InvalidArgumentError(field, `shape ${shape.join('x')} holds ${n} elements, data has ${length}`);
}
