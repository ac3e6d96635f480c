import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../common/logger.ts';
import { classifyFailure } from '../../coordinator/cluster/failures.ts';
import { FairShare } from '../../coordinator/cluster/fair-share.ts';
import { pickStraggler, stragglerAfterMs } from '../../coordinator/cluster/stragglers.ts';
import { assertAnswers, grpcError, items, setup, type FakeWorker } from '../helpers/dispatcher-fixture.ts';

/** The fakes named slow and fast, both answering 2 ms after a call plus their time per item. */
function slowAndFast(fakes: Map<string, FakeWorker>, slowPerItemMs: number, fastPerItemMs: number): { slow: FakeWorker; fast: FakeWorker } {
  const slow = fakes.get('slow')!;
  const fast = fakes.get('fast')!;
  slow.latencyMs = fast.latencyMs = 2;
  slow.perItemMs = slowPerItemMs;
  fast.perItemMs = fastPerItemMs;
  return { slow, fast };
}

/**
 * The dispatcher's failures, timeouts, stragglers and pace against scripted
 * fake workers in virtual time (test/helpers/dispatcher-fixture.ts): every
 * bound on time below is exact and holds on a loaded machine. The order of
 * work and batch sizes: cluster-dispatcher-order.test.ts.
 */

test('dispatcher - a failed call carrying two requests\' items is one retry and one log line', async (t) => {
  const lines: string[] = [];
  const captured = createLogger('test', { level: 'warn', write: (l) => lines.push(l) });
  const { fakes, dispatcher, run, close } = await setup(t, ['a', 'b'], { batchTimeoutMs: 150, log: captured, maxInFlightPerWorker: 1 }, {}, (f) => (f.latencyMs = 30));
  try {
    const a = fakes.get('a')!;
    a.mode = 'stuck';
    // Submitted in one tick, the two requests share a micro-batch (3 + 1 items, then 4).
    const [x, y] = await run(Promise.all([dispatcher.evaluate('field-mixture', items(3), { jobId: 'j' }), dispatcher.evaluate('field-mixture', items(5, 50), { jobId: 'j' })]));
    assertAnswers(x, 3);
    assertAnswers(y, 5, 50);
    const failed = lines.filter((l) => l.includes('batch failed, will retry'));
    assert.equal(a.calls.length, 1);
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.equal(dispatcher.wire.retries, 1);
  } finally {
    close();
  }
});

test('dispatcher - a stuck worker costs one batch timeout: it turns suspect and gets nothing until a heartbeat answers', async (t) => {
  const { fakes, registry, dispatcher, time, run, close } = await setup(t, ['a', 'b'], { batchTimeoutMs: 150 }, { probeIntervalMs: 400 });
  try {
    const a = fakes.get('a')!;
    a.mode = 'stuck';
    const started = time.now();
    const out = await run(dispatcher.evaluate('field-mixture', items(64)));
    assertAnswers(out, 64);
    // Only the batches sent before the first timeout went to the stuck worker: its two slots.
    assert.equal(a.calls.length, 2, `stuck worker got ${a.calls.join(',')}`);
    assert.equal(dispatcher.wire.retries, 2);
    // The healthy worker took the rest; the stuck one cost one batch timeout, not one per batch.
    assert.ok(time.now() - started < 2 * 150, `took ${time.now() - started} virtual ms`);
    const entry = registry.all().find((e) => e.address === 'a')!;
    assert.equal(entry.state, 'suspect');
    // Unstuck, it comes back at the next heartbeat (one probe interval) and takes work again.
    a.mode = 'ok';
    await time.advance(400);
    assert.equal(entry.state, 'serving');
    const before = a.calls.length;
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(64, 7))), 64, 7);
    assert.ok(a.calls.length > before);
  } finally {
    close();
  }
});

test('dispatcher - stragglers: a slow batch is duplicated on an idle worker and the first answer wins', async (t) => {
  const { fakes, dispatcher, time, run, close } = await setup(t, ['slow', 'fast'], { stragglers: { factor: 3, minMs: 100 } });
  try {
    const fast = fakes.get('fast')!;
    // Teach the dispatcher the usual latency of this device class.
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(8))), 8);
    const fastBefore = fast.calls.length;
    fakes.get('slow')!.latencyMs = 3_000;
    const started = time.now();
    const out = await run(dispatcher.evaluate('field-mixture', items(8, 100)));
    const ms = time.now() - started;
    assertAnswers(out, 8, 100);
    // The 100 ms threshold, checked every 200 ms, then 5 ms on the fast worker: long before the slow answer at 3 s.
    assert.ok(ms <= 100 + 200 + 5 + 5, `took ${ms} virtual ms: the slow batch was not duplicated at once`);
    assert.ok(dispatcher.wire.duplicates >= 1);
    assert.ok(fast.calls.length > fastBefore);
  } finally {
    close();
  }
});

test('dispatcher - the first answer is decoded into the item\'s own output array; a later duplicate leaves it alone', async (t) => {
  const { fakes, dispatcher, time, run, close } = await setup(t, ['slow', 'fast'], { stragglers: { factor: 3, minMs: 100 }, maxInFlightPerWorker: 1 });
  try {
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(8))), 8);
    const slow = fakes.get('slow')!;
    slow.latencyMs = 1_500;
    slow.offset = 1000; // a late copy would show
    const its = items(8, 100).map((it) => ({ ...it, output: new Float32Array(2) }));
    const out = await run(dispatcher.evaluate('field-mixture', its));
    assertAnswers(out, 8, 100);
    out.forEach((o, i) => assert.equal(o, its[i]!.output, `item ${i} was not decoded into its own array`));
    assert.ok(dispatcher.wire.duplicates >= 1, 'the slow batch was duplicated');
    const snapshot = its.map((it) => [...it.output]);
    const pending = slow.calls.length - slow.answered;
    assert.ok(pending >= 1, 'the slow copy is still out');
    await time.advance(1_500); // the slow copies answer now
    assert.equal(slow.answered, slow.calls.length, 'the late copies have answered');
    assert.deepEqual(its.map((it) => [...it.output]), snapshot, 'a late duplicate wrote into an array the caller owns');
  } finally {
    close();
  }
});

test('dispatcher - throughput-aware: a worker 16x slower per item (a slow link) gets only what the fast one cannot take in time', async (t) => {
  // Listed first, so an even or first-listed split would favour it.
  const { fakes, dispatcher, run, close } = await setup(t, ['slow', 'fast'], { stragglers: { factor: 3, minMs: 60_000 } });
  try {
    const { slow, fast } = slowAndFast(fakes, 80, 5);
    // A sequential single-window job: one item per step, 30 steps.
    for (let step = 0; step < 30; step++) assertAnswers(await run(dispatcher.evaluate('field-mixture', items(1, step))), 1, step);
    const slowSingles = slow.calls.reduce((n, c) => n + c, 0);
    assert.ok(slowSingles <= 2, `the slow worker evaluated ${slowSingles} of 30 single-item steps (it is measured once, then passed over)`);
    // Steps of 8 items (a few layout windows): the fast worker, two batches in flight, finishes them first.
    for (let step = 0; step < 10; step++) assertAnswers(await run(dispatcher.evaluate('field-mixture', items(8, 100 * step))), 8, 100 * step);
    const slowItems = slow.calls.reduce((n, c) => n + c, 0) - slowSingles;
    assert.ok(slowItems <= 8, `the slow worker evaluated ${slowItems} of 80 items in 8-item steps`);
  } finally {
    close();
  }
});

test('dispatcher - throughput-aware: an idle fast worker duplicates a slow worker\'s batch early, long before the straggler threshold', async (t) => {
  const { fakes, dispatcher, time, run, close } = await setup(t, ['slow', 'fast'], { stragglers: { factor: 3, minMs: 60_000 }, maxInFlightPerWorker: 1 });
  try {
    const { slow } = slowAndFast(fakes, 5, 5);
    // Both measured as fast; then the slow one's link degrades (200 ms per item).
    for (let step = 0; step < 6; step++) assertAnswers(await run(dispatcher.evaluate('field-mixture', items(4, step * 10))), 4, step * 10);
    slow.perItemMs = 200;
    const started = time.now();
    for (let step = 0; step < 4; step++) assertAnswers(await run(dispatcher.evaluate('field-mixture', items(4, 100 + step * 10))), 4, 100 + step * 10);
    // With the 60 s straggler floor, only an early duplicate could have saved these steps from waiting 400 ms or more each.
    assert.ok(dispatcher.wire.duplicates >= 1, 'no early duplicate');
    assert.ok(time.now() - started < 4 * 400, `4 steps took ${time.now() - started} virtual ms`);
  } finally {
    close();
  }
});

test('dispatcher - a worker that fails every call is marked dead after 3 failures and its batches go elsewhere', async (t) => {
  const { fakes, registry, dispatcher, run, close } = await setup(t, ['bad', 'good']);
  try {
    const bad = fakes.get('bad')!;
    bad.mode = 'fail';
    const progress: number[] = [];
    const out = await run(dispatcher.evaluate('field-mixture', items(100), { onBatchDone: (n) => progress.push(n) }));
    assertAnswers(out, 100);
    assert.equal(
      progress.reduce((a, b) => a + b, 0),
      100,
    );
    assert.equal(registry.all().find((e) => e.address === 'bad')!.state, 'dead');
    // Three failures, plus the one call already in flight when the third came back (2 in flight per worker).
    assert.ok(bad.calls.length >= 3 && bad.calls.length <= 4, `failing worker got ${bad.calls.length} calls`);
  } finally {
    close();
  }
});

test('dispatcher - when every worker fails, evaluate rejects with the last worker error', async (t) => {
  const { fakes, dispatcher, run, close } = await setup(t, ['x', 'y'], {}, { probeIntervalMs: 20 });
  try {
    for (const f of fakes.values()) f.mode = 'fail';
    await assert.rejects(run(dispatcher.evaluate('field-mixture', items(16))), /evaluation failed after 5 attempts; last error: worker [xy]: 13 INTERNAL: boom from [xy]/);
  } finally {
    close();
  }
});

test('dispatcher - when no worker serves the model, evaluate waits the no-worker timeout, then rejects', async (t) => {
  const { fakes, dispatcher, time, run, close } = await setup(t, ['only'], { noWorkerTimeoutMs: 5_000 });
  try {
    fakes.get('only')!.mode = 'stuck';
    const started = time.now();
    // The one batch times out (10 s) and takes the worker out; then the request waits for a worker.
    await assert.rejects(run(dispatcher.evaluate('field-mixture', items(4))), /no serving worker has model "field-mixture" \(last error: worker only: .*Deadline exceeded/);
    const waited = time.now() - started;
    // The timeout, then 5 s without a worker, noticed by the next 200 ms check.
    assert.ok(waited > 10_000 + 5_000 && waited <= 10_000 + 5_000 + 200 + 200, `rejected after ${waited} virtual ms`);
  } finally {
    close();
  }
});

test('cluster - failure kinds, straggler thresholds and fair-share charges', () => {
  assert.equal(classifyFailure(grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')), 'timeout');
  assert.equal(classifyFailure(grpcError(grpc.status.UNAVAILABLE, 'worker is draining')), 'draining');
  assert.equal(classifyFailure(grpcError(grpc.status.UNAVAILABLE, 'connect ECONNREFUSED')), 'unreachable');
  assert.equal(classifyFailure(grpcError(grpc.status.INTERNAL, 'boom')), 'error');
  assert.equal(classifyFailure(new Error('no code')), 'error');

  const policy = { factor: 3, minMs: 2_000 };
  assert.equal(stragglerAfterMs(undefined, policy), undefined);
  assert.equal(stragglerAfterMs(0.1, policy), 2_000);
  assert.equal(stragglerAfterMs(1, policy), 3_000);
  const batches = [
    { id: 1, startedMs: 0, hedged: false },
    { id: 2, startedMs: 500, hedged: false },
    { id: 3, startedMs: -10_000, hedged: true },
  ];
  assert.equal(pickStraggler(batches, 1_000, () => 2_000), undefined);
  assert.equal(pickStraggler(batches, 3_000, () => 2_000)?.id, 1);
  assert.equal(pickStraggler(batches, 3_000, (b) => (b.id === 1 ? undefined : 2_000))?.id, 2);

  const share = new FairShare();
  share.join('a');
  share.charge('a', 50);
  share.join('b');
  assert.equal(share.of('b'), 50, 'a newcomer starts at the least charge, not at zero');
  share.charge('b', 10);
  share.retain(new Set(['b']));
  share.join('a');
  assert.equal(share.of('a'), 60);
});
