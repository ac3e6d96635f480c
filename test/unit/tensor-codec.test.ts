import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTensor, decodeTensorInto, encodeTensor, floatToHalf, floatsToHalves, halfToFloat, halvesToFloats } from '../../common/tensor-codec.ts';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';

test('tensor codec - float16 bit patterns of known values', () => {
  assert.equal(floatToHalf(0), 0x0000);
  assert.equal(floatToHalf(-0), 0x8000);
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(-2), 0xc000);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(1e6), 0x7c00);
  assert.equal(floatToHalf(2 ** -24), 0x0001);
  assert.equal(floatToHalf(0.1), 0x2e66);
  assert.equal(floatToHalf(Infinity), 0x7c00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  // round to nearest even at the halfway point between 1 and 1 + 2^-10
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00);
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
});

test('tensor codec - round trip float32 exactly and float16 within half precision', () => {
  const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
  const t32 = encodeTensor(data, [10, 100], 'float32') as Tensor__Output;
  assert.deepEqual(decodeTensor(t32, 'x').data, data);
  const t16 = encodeTensor(data, [10, 100], 'float16') as Tensor__Output;
  assert.equal((t16.data as Buffer).length, 2000);
  const back = decodeTensor(t16, 'x').data;
  for (let i = 0; i < data.length; i++) {
    const tol = Math.max(Math.abs(data[i]!) * 2 ** -11, 2 ** -24);
    assert.ok(Math.abs(back[i]! - data[i]!) <= tol, `element ${i}: ${data[i]} -> ${back[i]}`);
  }
});

test('tensor codec - malformed tensors are InvalidArgumentError naming the field', () => {
  const bad = (t: Partial<Tensor__Output>, msg: RegExp) =>
    assert.throws(() => decodeTensor({ dtype: 'float32', shape: [2], data: Buffer.alloc(8), ...t } as Tensor__Output, 'items[0].sample'), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.match((e as Error).message, msg);
      return true;
    });
  bad({ dtype: 'float64' }, /items\[0\]\.sample\.dtype/);
  bad({ shape: [3] }, /items\[0\]\.sample\.data has 8 bytes, expected 12/);
  bad({ shape: [] }, /items\[0\]\.sample\.shape/);
  bad({ shape: [-1] }, /items\[0\]\.sample\.shape/);
  bad({ shape: [1 << 20, 1 << 20] }, /more than the limit/);
  assert.throws(() => decodeTensor(undefined, 'x'), /x is missing/);
});

test('tensor codec - the batch float16 conversions match the scalar ones bit for bit', () => {
  // Every float16 pattern, and float32 patterns around every float16 rounding
  // boundary and range edge (subnormals, overflow, inf, NaN), both signs.
  const halves = Uint16Array.from({ length: 65536 }, (_, h) => h);
  const floats = new Float32Array(65536);
  halvesToFloats(halves, floats);
  for (let h = 0; h < 65536; h++) {
    const want = halfToFloat(h);
    assert.ok(Object.is(floats[h], Math.fround(want)) || (Number.isNaN(want) && Number.isNaN(floats[h]!)), `half 0x${h.toString(16)}`);
  }
  const bits = new Uint32Array(1 << 18);
  for (let i = 0; i < bits.length; i++) {
    const base = ((i >>> 2) << 13) + 0x33000000; // steps of one float16 ulp through the whole range
    bits[i] = (base + [0, 0xfff, 0x1000, 0x1001][i & 3]! + (i & 1 ? 0x80000000 : 0)) >>> 0;
  }
  const src = new Float32Array(bits.buffer);
  src.set([Infinity, -Infinity, NaN, 0, -0, 65504, 65520, -65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26], 0);
  const out = new Uint16Array(src.length);
  floatsToHalves(src, out);
  for (let i = 0; i < src.length; i++) {
    const want = floatToHalf(src[i]!);
    const isNaN16 = (v: number) => (v & 0x7c00) === 0x7c00 && (v & 0x3ff) !== 0;
    assert.ok(out[i] === want || (isNaN16(want) && isNaN16(out[i]!)), `float bits 0x${bits[i]!.toString(16)}: 0x${out[i]!.toString(16)} != 0x${want.toString(16)}`);
  }
});

test('tensor codec - decode into a caller buffer, misaligned bytes and the finiteness check', () => {
  const data = Float32Array.from({ length: 64 }, (_, i) => i / 7 - 3);
  for (const dtype of ['float16', 'float32'] as const) {
    const t = encodeTensor(data, [4, 16], dtype) as Tensor__Output;
    // A message buffer may hold the bytes at an odd offset: copy them there.
    const raw = Buffer.alloc(t.data.length + 1);
    t.data.copy(raw, 1);
    const misaligned = { ...t, data: raw.subarray(1) } as Tensor__Output;
    const dst = new Float32Array(64);
    assert.deepEqual(decodeTensorInto(misaligned, 'x', dst), [4, 16]);
    assert.deepEqual(dst, decodeTensor(t, 'x').data);
    assert.throws(() => decodeTensorInto(t, 'items[2].sample', new Float32Array(63)), /items\[2\]\.sample\.shape must hold 63 elements, got 4x16/);
    const bad = Float32Array.from(data);
    bad[17] = dtype === 'float16' ? Infinity : NaN;
    const badTensor = encodeTensor(bad, [4, 16], dtype) as Tensor__Output;
    assert.throws(() => decodeTensor(badTensor, 'items[0].sample', { requireFinite: true }), (e: unknown) => e instanceof InvalidArgumentError && /items\[0\]\.sample\.data contains NaN or Inf/.test((e as Error).message));
    assert.equal(decodeTensor(badTensor, 'x').data.length, 64); // without the option, no check
  }
});
