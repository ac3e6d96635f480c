import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchCap, batchSize, type Backlog } from '../../coordinator/cluster/batch-size.ts';

const base: Backlog = { cap: 16, workers: 32, depth: 2, items: 207, queued: 207, live: 207, freeSlots: 64 };

test('batch size - a backlog that needs several rounds per worker: equal batches, the fewest rounds', () => {
  // 1000 items on 4 workers of cap 16: 16 rounds of 15.6 -> 16 per batch.
  assert.equal(batchSize({ ...base, workers: 4, items: 1000, queued: 1000, live: 1000, freeSlots: 8 }), 16);
  // 100 items on 2 workers of cap 16: 4 rounds, 13 per batch (not 16, 16, 16, 16, 16, 16, 4).
  assert.equal(batchSize({ ...base, workers: 2, items: 100, queued: 100, live: 100, freeSlots: 4 }), 13);
});

test('batch size - a backlog smaller than the slots is split over every free slot (207 windows on 32 workers: 4 then 3)', () => {
  assert.equal(batchSize(base), 4); // ceil(207 / 64)
  assert.equal(batchSize({ ...base, queued: 207 - 4 * 15, freeSlots: 64 - 15 }), 3);
});

test('batch size - work arriving while most slots are busy is capped at an even share of the work still out', () => {
  // 60 items queued, 4 free slots of 64, 200 items out in all: at most ceil(200 / 64) = 4, not 15.
  assert.equal(batchSize({ ...base, items: 260, queued: 60, live: 200, freeSlots: 4 }), 4);
});

test('batch size - never below 1, never above the cap; the cap honours the message limit', () => {
  assert.equal(batchSize({ ...base, items: 1, queued: 1, live: 1 }), 1);
  assert.equal(batchSize({ ...base, workers: 0, items: 0, queued: 0, live: 0, freeSlots: 0 }), 1);
  assert.equal(batchSize({ ...base, cap: 2, workers: 1, items: 100, queued: 100, live: 100, freeSlots: 2 }), 2);
  assert.equal(batchCap(16, 64 << 20, 128 * 1024 + 256), 16);
  assert.equal(batchCap(16, 1 << 20, 128 * 1024 + 256), 7); // 0.9 MiB / 131 KiB
  assert.equal(batchCap(16, 1000, 128 * 1024), 1);
});
