import type { Tensor } from './proto/generated/propeller/v1/Tensor.ts';
import type { Tensor__Output } from './proto/generated/propeller/v1/Tensor.ts';
import { InvalidArgumentError, quoteBounded } from './errors.ts';
import { MAX_DTYPE_CHARS, checkLength } from './request-limits.ts';
import { handOver, uninitializedFloat32Array } from './float-buffers.ts';

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

/** True on little-endian hosts, where typed-array views already hold wire byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes the binary16 bits of every `src` element into `dst` (same length),
 * rounding to nearest even like {@link floatToHalf}. Works on the float32
 * bits through an Int32Array view: a window of 65536 elements takes about a
 * tenth of a millisecond, where one `floatToHalf` + `Buffer.writeUInt16LE`
 * call per element took over one (measured by `bench overhead`). On
 * little-endian hosts, with `dst` 4-byte aligned, two halves go out per
 * 32-bit store (about a fifth faster than one store per half).
 */
export function floatsToHalves(src: Float32Array, dst: Uint16Array): void {
  const n = src.length;
  if (dst.length !== n) throw new RangeError(`floatsToHalves: ${n} values, ${dst.length} slots`);
  // Int32, not Uint32: V8 keeps int32 lanes in registers, while a uint32 at or above 2^31 (every negative float) becomes a double.
  const bits = new Int32Array(src.buffer, src.byteOffset, n);
  let i = 0;
  if (LITTLE_ENDIAN && dst.byteOffset % 4 === 0) {
    const pairs = new Int32Array(dst.buffer, dst.byteOffset, n >> 1);
    for (let j = 0; j < pairs.length; j++, i += 2) pairs[j] = halfBits(bits[i]!) | (halfBits(bits[i + 1]!) << 16);
  }
  for (; i < n; i++) dst[i] = halfBits(bits[i]!);
}

/** The binary16 bits of the float32 with bits `x` (as an int32), like {@link floatToHalf}. */
function halfBits(x: number): number {
  const abs = x & 0x7fffffff;
  // abs in [0x38800000, 0x47800000): one compare when abs is below, one when above.
  if (abs - 0x38800000 < 0x0f000000 && abs >= 0x38800000) {
    // Normal half (the common case): add just under half an ulp, plus one
    // when the kept bit is odd (round to nearest even), drop 13 mantissa bits
    // and rebias the exponent (127 - 15 = 112). A carry into the exponent is
    // still correct, up to inf. (abs < 2^31: `>>` is `>>>` here, and stays int32.)
    return ((x >> 16) & 0x8000) | (((abs + 0xfff + ((abs >> 13) & 1)) >> 13) - 0x1c000);
  }
  return floatBitsToHalf(x);
}

/** The rare cases of {@link floatsToHalves}: zero, subnormal, overflow, inf and NaN. */
function floatBitsToHalf(x: number): number {
  U32[0] = x;
  return floatToHalf(F32[0]!);
}

let halfTable: Float32Array | undefined;

/** The float value of every binary16 bit pattern (256 KiB, built on first use). */
function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Converts binary16 bit patterns to float32 through a lookup table; returns
 * true when every value is finite (checked on the bits as they go by, which
 * saves a second pass over the floats). On little-endian hosts, with `src`
 * 4-byte aligned, the halves are read two per 32-bit load.
 */
export function halvesToFloats(src: Uint16Array, dst: Float32Array): boolean {
  const n = src.length;
  if (dst.length !== n) throw new RangeError(`halvesToFloats: ${n} values, ${dst.length} slots`);
  const table = halfToFloatTable();
  // Exponent 0x1f (inf, NaN) + 0x400 carries into bit 15; no other exponent does.
  let flags = 0;
  let i = 0;
  if (LITTLE_ENDIAN && src.byteOffset % 4 === 0) {
    // Int32, not Uint32 (see floatsToHalves); `>>> 16` of a negative int32 is below 2^16, a small integer.
    const pairs = new Int32Array(src.buffer, src.byteOffset, n >> 1);
    for (let j = 0; j < pairs.length; j++, i += 2) {
      const w = pairs[j]!;
      const lo = w & 0xffff;
      const hi = w >>> 16;
      dst[i] = table[lo]!;
      dst[i + 1] = table[hi]!;
      flags |= ((lo & 0x7c00) + 0x400) | ((hi & 0x7c00) + 0x400);
    }
  }
  for (; i < n; i++) {
    const h = src[i]!;
    dst[i] = table[h]!;
    flags |= (h & 0x7c00) + 0x400;
  }
  return (flags & 0x8000) === 0;
}

/**
 * Encodes a float tensor for the wire; into `into` (its own buffer, byte
 * offset 0, of exactly the encoded size) when given, else a new buffer.
 */
export function encodeTensor(data: Float32Array, shape: readonly number[], dtype: 'float32' | 'float16' = 'float16', into?: Buffer): Tensor {
  checkSize(data.length, shape, 'tensor');
  if (!LITTLE_ENDIAN) return encodeTensorPortable(data, shape, dtype);
  if (dtype === 'float32') {
    // One memcpy: the caller may reuse `data` after this returns.
    const bytes = Buffer.allocUnsafeSlow(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { dtype, shape: [...shape], data: bytes };
  }
  // Not zero-filled first: floatsToHalves writes every element. Its own
  // buffer (byte offset 0), so the halves go out two per 32-bit store.
  const bytes = into && into.byteLength === data.length * 2 && into.byteOffset === 0 ? into : Buffer.allocUnsafeSlow(data.length * 2);
  floatsToHalves(data, new Uint16Array(bytes.buffer, bytes.byteOffset, data.length));
  return { dtype, shape: [...shape], data: bytes };
}

/** Byte-by-byte encoding for big-endian hosts. */
function encodeTensorPortable(data: Float32Array, shape: readonly number[], dtype: 'float32' | 'float16'): Tensor {
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
export function decodeTensor(t: Tensor__Output | undefined | null, field: string, opts: DecodeOptions = {}): HostTensor {
  const { shape, n } = checkWireTensor(t, field, opts.maxElements);
  // Not zero-filled first: fillFloats writes every element, whatever the dtype.
  const data = uninitializedFloat32Array(n);
  fillFloats(t!, data, field, opts.requireFinite ?? false);
  if (opts.handOver) handOver(data);
  return { shape, data };
}

/**
 * Decodes a wire tensor into `dst` (whose length must be the tensor's element
 * count), so a caller can decode straight into a batch buffer instead of
 * allocating and copying one array per item. Returns the shape.
 */
export function decodeTensorInto(t: Tensor__Output | undefined | null, field: string, dst: Float32Array, opts: Pick<DecodeOptions, 'requireFinite'> = {}): number[] {
  const { shape, n } = checkWireTensor(t, field);
  if (n !== dst.length) throw new InvalidArgumentError(`${field}.shape`, `must hold ${dst.length} elements, got ${shape.join('x')}`);
  fillFloats(t!, dst, field, opts.requireFinite ?? false);
  return shape;
}

/** Options of {@link decodeTensor}. */
export interface DecodeOptions {
  /** Most elements accepted (default 2^28). */
  maxElements?: number;
  /**
   * Reject NaN and Inf with an InvalidArgumentError on `<field>.data`; for
   * float16 the check rides along the conversion, which is cheaper than an
   * {@link allFinite} pass afterwards.
   */
  requireFinite?: boolean;
  /**
   * The caller passes the decoded array on, unchanged, to one receiver and
   * keeps no reference: marks it with `handOver` (common/float-buffers.ts),
   * so that receiver may claim it and reuse it in place.
   */
  handOver?: boolean;
}

/** Validates dtype, shape and byte size of a wire tensor; returns its shape and element count. */
function checkWireTensor(t: Tensor__Output | undefined | null, field: string, maxElements = 1 << 28): { shape: number[]; n: number } {
  if (!t) throw new InvalidArgumentError(field, 'is missing');
  checkLength(`${field}.dtype`, t.dtype, MAX_DTYPE_CHARS);
  const shape = t.shape.map((d) => Number(d));
  if (shape.length === 0 || shape.length > 8) throw new InvalidArgumentError(`${field}.shape`, `must have 1 to 8 dimensions, got ${shape.length}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new InvalidArgumentError(`${field}.shape`, `has a non-positive or invalid dimension (${shape.join('x')})`);
    n *= d;
  }
  if (n > maxElements) throw new InvalidArgumentError(`${field}.shape`, `has ${n} elements, more than the limit ${maxElements}`);
  const bytes = t.data ?? Buffer.alloc(0);
  const width = dtypeWidth(t.dtype, field);
  if (bytes.length !== n * width) {
    throw new InvalidArgumentError(`${field}.data`, `has ${bytes.length} bytes, expected ${n * width} for ${t.dtype} ${shape.join('x')}`);
  }
  return { shape, n };
}

let halfScratch = new Uint16Array(0);

/** Largest scratch kept between calls (elements): a few windows; bigger tensors get a one-off copy. */
const MAX_HALF_SCRATCH = 1 << 21;

/** Fills `data` from a checked wire tensor of `data.length` elements; throws on NaN/Inf when asked to. */
function fillFloats(t: Tensor__Output, data: Float32Array, field: string, requireFinite: boolean): void {
  const bytes = t.data ?? Buffer.alloc(0);
  const n = data.length;
  let finite: boolean | undefined;
  switch (t.dtype) {
    case 'float32':
      // A byte copy into the float array also copes with a misaligned message buffer.
      if (LITTLE_ENDIAN) new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
      else for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(i * 4);
      break;
    case 'float16':
      if (LITTLE_ENDIAN) {
        // Read the halves in place when the message buffer allows a Uint16Array
        // view; otherwise through a scratch copy kept between calls (this is
        // synchronous, so one scratch per process is safe). Either way no
        // per-call allocation: fewer garbage collections under load.
        let halves: Uint16Array;
        if (bytes.byteOffset % 2 === 0) {
          halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
        } else {
          if (halfScratch.length < n && n <= MAX_HALF_SCRATCH) halfScratch = new Uint16Array(n);
          halves = n <= halfScratch.length ? halfScratch.subarray(0, n) : new Uint16Array(n);
          new Uint8Array(halves.buffer, halves.byteOffset, n * 2).set(bytes);
        }
        finite = halvesToFloats(halves, data);
      } else {
        for (let i = 0; i < n; i++) data[i] = halfToFloat(bytes.readUInt16LE(i * 2));
      }
      break;
    case 'uint8':
      for (let i = 0; i < n; i++) data[i] = bytes[i]!;
      break;
    case 'int64':
      for (let i = 0; i < n; i++) data[i] = Number(bytes.readBigInt64LE(i * 8));
      break;
  }
  if (requireFinite && !(finite ?? allFinite(data))) throw new InvalidArgumentError(`${field}.data`, 'contains NaN or Inf');
}

/** Raw uint8 view of a uint8 wire tensor (no copy). */
export function decodeUint8Tensor(t: Tensor__Output | undefined | null, field: string): { shape: number[]; data: Uint8Array } {
  if (!t) throw new InvalidArgumentError(field, 'is missing');
  if (t.dtype !== 'uint8') throw new InvalidArgumentError(`${field}.dtype`, `must be uint8, got ${quoteBounded(t.dtype)}`);
  // Rank, positive dimensions and byte count, as for every other dtype.
  const { shape } = checkWireTensor(t, field);
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
      throw new InvalidArgumentError(`${field}.dtype`, `must be one of float32, float16, int64, uint8; got ${quoteBounded(dtype)}`);
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
