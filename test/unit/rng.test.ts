import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../common/rng.ts';

// fillNormal is an inlined copy of the generator: it must give exactly the
// values of normal() called one at a time, whatever the lengths and the
// draws in between (the Box-Muller spare carries across calls).
test('rng - fillNormal equals repeated normal() bit for bit, across odd lengths, spares and interleaved draws', () => {
  const cases: Array<[number, number, number[]]> = [
    [1, 0, [1, 7, 1000, 3]],
    [5, 3, [2, 1, 1, 9999]],
    [42, 9, [0, 5, 10000, 1]],
  ];
  for (const [seed, stream, lengths] of cases) {
    const filled = new Rng(seed, stream);
    const single = new Rng(seed, stream);
    for (const n of lengths) {
      const a = filled.fillNormal(new Float64Array(n));
      for (let i = 0; i < n; i++) assert.ok(Object.is(a[i], single.normal()), `seed ${seed} length ${n} index ${i}`);
      assert.equal(filled.nextU32(), single.nextU32());
      assert.equal(filled.normal(), single.normal());
    }
  }
});

test('rng - streams of one seed differ; a seed repeats', () => {
  const a = new Rng(7, 0).fillNormal(new Float32Array(64));
  const b = new Rng(7, 1).fillNormal(new Float32Array(64));
  const again = new Rng(7, 0).fillNormal(new Float32Array(64));
  assert.notDeepEqual(a, b);
  assert.deepEqual(a, again);
});
