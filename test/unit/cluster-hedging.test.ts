import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/logger.ts';
import { EvalRequest, type InFlightBatch } from '../../coordinator/cluster/eval-request.ts';
import { duplicateFor } from '../../coordinator/cluster/hedging.ts';
import { Pace } from '../../coordinator/cluster/pace.ts';
import { WorkerRegistry, type WorkerEntry } from '../../coordinator/cluster/worker-registry.ts';
import { ENTRY_MODEL, workerEntry as worker, workItems } from '../helpers/worker-entries.ts';

/**
 * Which batch an idle worker duplicates (coordinator/cluster/hedging.ts), on
 * hand-built requests and workers at given clock times: no timers, no
 * dispatcher. The dispatcher's tests run the same choices end to end.
 */
const log = createLogger('test', { level: 'silent' });
const registry = new WorkerRegistry({ maxMessageBytes: 1 << 20, infoTimeoutMs: 100, probeIntervalMs: 60_000, maxConsecutiveFailures: 3, log, connect: () => assert.fail('no calls') });

/** A request of `n` items, all sent to `on` at `startedMs` in one batch (nothing left queued). */
function sentRequest(n: number, on: WorkerEntry, startedMs: number): { p: EvalRequest; b: InFlightBatch } {
  const p = new EvalRequest(ENTRY_MODEL, workItems(n), {}, () => undefined, () => undefined);
  const b: InFlightBatch = { worker: on, items: p.take(on.address, n, [on.address]), startedMs, hedged: false };
  p.sent(b);
  return { p, b };
}

const pace = new Pace(registry, 2, { now: () => 0 });
/** Straggler after 1 s, whatever the batch. */
const oneSecond = () => 1_000;

test('hedging - a batch past its straggler threshold goes to an idle worker, once, without its answered items', async () => {
  const slow = await worker('slow', { inFlight: 1 });
  const idle = await worker('idle');
  const { p, b } = sentRequest(4, slow, 0);
  assert.equal(duplicateFor(idle, [p], 900, pace, oneSecond), undefined, 'not yet a straggler');
  assert.equal(duplicateFor(idle, [p], 2_000, pace, () => undefined), undefined, 'threshold not known yet');
  p.fill([1], [new Float32Array(2)]);
  const dup = duplicateFor(idle, [p], 1_500, pace, oneSecond);
  assert.ok(dup);
  assert.equal(dup.b, b);
  assert.deepEqual(dup.items, [0, 2, 3]);
  p.hedged(b);
  assert.equal(duplicateFor(idle, [p], 5_000, pace, oneSecond), undefined, 'a batch is duplicated at most once');
});

test('hedging - queued work comes first, a busy worker takes no copy, nor one without the model, nor its own batch', async () => {
  const slow = await worker('slow', { inFlight: 1 });
  const { p } = sentRequest(4, slow, 0);
  assert.equal(duplicateFor(await worker('busy', { inFlight: 1 }), [p], 5_000, pace, oneSecond), undefined);
  assert.equal(duplicateFor(await worker('other', { models: new Map() }), [p], 5_000, pace, oneSecond), undefined);
  assert.equal(duplicateFor(slow, [p], 5_000, pace, oneSecond), undefined);
  // Two of four items sent, two still queued: that request's batch waits; the other request's does not.
  const partly = new EvalRequest(ENTRY_MODEL, workItems(4), {}, () => undefined, () => undefined);
  partly.sent({ worker: slow, items: partly.take('slow', 2, ['slow']), startedMs: 0, hedged: false });
  assert.equal(duplicateFor(await worker('idle'), [partly], 5_000, pace, oneSecond), undefined);
  assert.equal(duplicateFor(await worker('idle'), [partly, p], 5_000, pace, oneSecond)?.p, p);
});

test('hedging - an idle worker measured clearly faster duplicates early, long before the straggler threshold', async () => {
  // 4 items at 0.5 s each on the slow worker: expected 2 s. The idle one takes 4 x 0.1 s (x1.25 margin).
  const slow = await worker('slow', { inFlight: 1, secondsPerItem: 0.5 });
  const { p, b } = sentRequest(4, slow, 0);
  const never = () => 60_000;
  assert.equal(duplicateFor(await worker('fast', { secondsPerItem: 0.1 }), [p], 100, pace, never)?.b, b);
  // Within the 25% margin it waits: 4 x 0.45 s x 1.25 > 2 s - 0.1 s.
  assert.equal(duplicateFor(await worker('peer', { secondsPerItem: 0.45 }), [p], 100, pace, never), undefined);
  // An unmeasured idle worker has no pace to compare: only the straggler threshold applies.
  assert.equal(duplicateFor(await worker('new'), [p], 100, pace, never), undefined);
});
