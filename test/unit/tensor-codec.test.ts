import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTensor, encodeTensor, floatToHalf, halfToFloat } from '../../common/tensor-codec.ts';
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
