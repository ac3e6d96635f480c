import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packedSamples } from '../../worker/inference.ts';

test('worker inference - back-to-back samples go to ORT as one view, anything else is copied', () => {
  const per = 4;
  const buf = Float32Array.from({ length: 12 }, (_, i) => i);
  const items = [0, 1, 2].map((i) => ({ sample: buf.subarray(i * per, (i + 1) * per), timestep: 1 }));
  const packed = packedSamples(items, per)!;
  assert.equal(packed.buffer, buf.buffer);
  assert.deepEqual([...packed], [...buf]);
  // A chunk that starts mid-buffer is packed too.
  assert.equal(packedSamples(items.slice(1), per)!.byteOffset, per * 4);
  // Out of order, separate buffers or a wrong length: no view.
  assert.equal(packedSamples([items[1]!, items[0]!], per), undefined);
  assert.equal(packedSamples([items[0]!, { sample: new Float32Array(per) }], per), undefined);
  assert.equal(packedSamples([{ sample: buf.subarray(0, 3) }], per), undefined);
  assert.equal(packedSamples([], per), undefined);
});
