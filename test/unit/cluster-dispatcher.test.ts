import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../common/logger.ts';
import { decodeTensor, encodeTensor } from '../../common/tensor-codec.ts';
import type { EvaluateRequest } from '../../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { Dispatcher, type DispatcherOptions, type WindowWork } from '../../coordinator/cluster/dispatcher.ts';
import { classifyFailure } from '../../coordinator/cluster/failures.ts';
import { FairShare } from '../../coordinator/cluster/fair-share.ts';
import { pickStraggler, stragglerAfterMs } from '../../coordinator/cluster/stragglers.ts';
import type { WorkerCalls } from '../../coordinator/cluster/worker-client.ts';
import { WorkerRegistry } from '../../coordinator/cluster/worker-registry.ts';
import { fakeWorkerInfo } from '../helpers/fake-worker-info.ts';
import { MockTime } from '../helpers/mock-time.ts';

/**
 * The dispatcher against fake workers (unit level: timing and failures are
 * scripted). Each fake answers item x with x + 1, so a wrong or missing
 * answer shows in the results. Time is virtual (test/helpers/mock-time.ts):
 * the fakes' latencies, the batch timeouts, the heartbeats and the
 * dispatcher's clock all run on node:test mock timers, so every bound on
 * time below is exact and holds on a loaded machine.
 */
const log = createLogger('test', { level: 'silent' });

type Mode = 'ok' | 'fail' | 'stuck';

function grpcError(code: grpc.status, details: string): Error {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details });
}

class FakeWorker implements WorkerCalls {
  mode: Mode = 'ok';
  latencyMs = 5;
  /** Item x is answered x + offset. */
  offset = 1;
  /** Added to latencyMs per item of a call (a slow link or a slow GPU). */
  perItemMs = 0;
  /** Items per Evaluate call received, in order. */
  readonly calls: number[] = [];
  /** Evaluate calls answered successfully. */
  answered = 0;
  /** Request tags (`jobId`) of the items received, in order. */
  readonly served: string[] = [];
  /** Confirm receipt of each request this long after it is sent (as a real worker's early headers); undefined: never. */
  receiptAfterMs: number | undefined;
  /** Calls and receipts in order: `call <items>`, `received <items>`. */
  readonly events: string[] = [];
  /** First sample value of every item received, in order. */
  readonly firsts: number[] = [];

  constructor(readonly address: string) {}

  async info(timeoutMs: number): Promise<InfoResponse__Output> {
    if (this.mode === 'stuck') return this.hang(timeoutMs);
    return fakeWorkerInfo(this.address, { confirmsReceipt: this.receiptAfterMs !== undefined });
  }

  async evaluate(req: EvaluateRequest, timeoutMs: number, _signal?: AbortSignal, onReceived?: () => void): Promise<EvaluateResponse__Output> {
    const items = req.items ?? [];
    this.calls.push(items.length);
    this.events.push(`call ${items.length}`);
    if (this.receiptAfterMs !== undefined) {
      setTimeout(() => {
        this.events.push(`received ${items.length}`);
        onReceived?.();
      }, this.receiptAfterMs);
    }
    if (this.mode === 'stuck') return this.hang(timeoutMs);
    const latency = this.latencyMs + this.perItemMs * items.length;
    await new Promise((r) => setTimeout(r, Math.min(latency, timeoutMs)));
    if (latency > timeoutMs) throw grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
    if (this.mode === 'fail') throw grpcError(grpc.status.INTERNAL, `boom from ${this.address}`);
    for (let i = 0; i < items.length; i++) this.served.push(req.jobId ?? '');
    for (const it of items) this.firsts.push(decodeTensor(it.sample as Tensor__Output, 'sample').data[0]!);
    this.answered++;
    return {
      computeSeconds: 0,
      outputs: items.map((it) => {
        const x = decodeTensor(it.sample as Tensor__Output, 'sample');
        return encodeTensor(x.data.map((v) => v + this.offset), x.shape, 'float32') as Tensor__Output;
      }),
    };
  }

  decode(): never {
    throw new Error('not used');
  }

  encode(): never {
    throw new Error('not used');
  }

  close(): void {}

  private hang<T>(timeoutMs: number): Promise<T> {
    return new Promise((_, reject) => setTimeout(() => reject(grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeoutMs));
  }
}

async function setup(t: TestContext, names: string[], opts: Partial<DispatcherOptions> = {}, registryOpts: { probeIntervalMs?: number } = {}, configure?: (w: FakeWorker) => void) {
  const time = new MockTime(t);
  const fakes = new Map(names.map((n) => [n, new FakeWorker(n)]));
  if (configure) for (const f of fakes.values()) configure(f);
  const registry = new WorkerRegistry({
    maxMessageBytes: 64 << 20,
    infoTimeoutMs: 100,
    probeIntervalMs: registryOpts.probeIntervalMs ?? 60_000,
    maxConsecutiveFailures: 3,
    log,
    connect: (address) => fakes.get(address)!,
  });
  await registry.add(names);
  registry.start();
  const dispatcher = new Dispatcher(registry, {
    wireDtype: 'float32',
    maxInFlightPerWorker: 2,
    batchTimeoutMs: 10_000,
    maxAttempts: 5,
    noWorkerTimeoutMs: 5_000,
    stragglers: { factor: 3, minMs: 60_000 },
    clock: time.clock,
    log,
    ...opts,
  });
  const close = () => {
    dispatcher.close();
    registry.close();
  };
  /** Lets virtual time pass until `work` settles. */
  const run = <T>(work: Promise<T>) => time.run(work);
  return { fakes, registry, dispatcher, time, run, close };
}

/** A 1x1x1 window with two channels (item x is [x, -x]). */
const WINDOW = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };

function items(n: number, base = 0): WindowWork[] {
  return Array.from({ length: n }, (_, i) => ({ window: WINDOW, sample: new Float32Array([base + i, -(base + i)]), timestep: 10 }));
}

function assertAnswers(out: Float32Array[], n: number, base = 0): void {
  assert.equal(out.length, n);
  out.forEach((o, i) => assert.deepEqual([...o], [base + i + 1, -(base + i) + 1]));
}

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
    const slow = fakes.get('slow')!;
    const fast = fakes.get('fast')!;
    slow.latencyMs = fast.latencyMs = 2;
    slow.perItemMs = 80;
    fast.perItemMs = 5;
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
    const slow = fakes.get('slow')!;
    const fast = fakes.get('fast')!;
    slow.latencyMs = fast.latencyMs = 2;
    fast.perItemMs = 5;
    slow.perItemMs = 5;
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

test('dispatcher - fair share by items: a request with many items does not crowd out one with few', async (t) => {
  const { fakes, dispatcher, run, close } = await setup(t, ['only'], { maxInFlightPerWorker: 4 });
  try {
    const w = fakes.get('only')!;
    w.latencyMs = 2;
    const big = dispatcher.evaluate('field-mixture', items(400), { jobId: 'big' });
    const small = dispatcher.evaluate('field-mixture', items(24, 1000), { jobId: 'small' });
    assertAnswers(await run(small), 24, 1000);
    const bigBefore = w.served.filter((t) => t === 'big').length;
    assertAnswers(await run(big), 400);
    // Charged by items, the big request gets about as many items as the
    // small one while both wait: beyond the 4 x 16 it had in flight when the
    // small one arrived, at most twice the small one's 24 (its batches shrink
    // as its queue does). Round-robin by batch gave the big one 208.
    assert.ok(bigBefore <= 4 * 16 + 2 * 24, `the big request got ${bigBefore} items before the small one's 24 were done`);
  } finally {
    close();
  }
});

test('dispatcher - fair share by items: two jobs stepping together on two workers get equal items while both run', async (t) => {
  // The integration test's setup (test/integration/cluster-fair-sharing.test.ts) with counts: a
  // job of 63 windows per step beside one of 27, each step waiting for the last.
  const { fakes, dispatcher, run, close } = await setup(t, ['a', 'b'], {}, {}, (w) => {
    w.latencyMs = 3;
    w.perItemMs = 1;
  });
  try {
    // A batch may carry both jobs' items: an item's job shows in its sample (the medium job's from 100,000).
    const base = { big: 0, medium: 100_000 };
    const servedBig = () => [...fakes.values()].reduce((n, f) => n + f.firsts.filter((v) => v < base.medium).length, 0);
    const steps = { big: 0, medium: 0 };
    let atMediumEnd: { big: number; bigSteps: number } | undefined;
    const job = async (name: 'big' | 'medium', windows: number, total: number) => {
      for (let step = 0; step < total; step++) {
        const from = base[name] + 1000 * step;
        assertAnswers(await dispatcher.evaluate('field-mixture', items(windows, from), { jobId: name }), windows, from);
        steps[name]++;
      }
      if (name === 'medium') atMediumEnd = { big: servedBig(), bigSteps: steps.big };
    };
    await run(Promise.all([job('big', 63, 12), job('medium', 27, 12)]));
    // The medium job's 324 items went out while the big one got about as many
    // (give or take the 4 slots' batches in flight): by items, not by steps.
    assert.ok(atMediumEnd, 'the medium job ended first');
    assert.ok(Math.abs(atMediumEnd.big - 12 * 27) <= 4 * 16, `the big job got ${atMediumEnd.big} items while the medium one got 324`);
    assert.ok(atMediumEnd.bigSteps >= 4 && atMediumEnd.bigSteps < 12, `the big job was at step ${atMediumEnd.bigSteps} when the medium one ended`);
  } finally {
    close();
  }
});

test('dispatcher - a backlog smaller than the free slots is split over every worker\'s slots, shares within one item', async (t) => {
  // 4 workers x 2 slots, 26 items, max batch 16: one batch each would leave
  // both transfers on the critical path; two each overlap them with compute.
  const { fakes, dispatcher, run, close } = await setup(t, ['a', 'b', 'c', 'd']);
  try {
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(26))), 26);
    const totals = [...fakes.values()].map((f) => f.calls.reduce((x, y) => x + y, 0));
    for (const f of fakes.values()) assert.equal(f.calls.length, 2, `calls ${f.calls.join(',')}`);
    assert.ok(Math.max(...totals) - Math.min(...totals) <= 1, `items per worker ${totals.join(',')}`);
    assert.deepEqual([...fakes.values()].flatMap((f) => f.calls).sort(), [3, 3, 3, 3, 3, 3, 4, 4]);
  } finally {
    close();
  }
});

test('dispatcher - work arriving while most slots are busy is not all handed to the few free ones', async (t) => {
  // A pipelined sampler submits the next step while the last one computes:
  // one free slot must not take 16 items (seconds on a GPU) that six other
  // workers will be free for shortly.
  const { fakes, dispatcher, run, close } = await setup(t, ['a', 'b', 'c', 'd'], {}, {}, (w) => {
    w.latencyMs = 150;
  });
  try {
    const first = dispatcher.evaluate('field-mixture', items(7)); // 7 of the 8 slots, one item each
    await new Promise((r) => setImmediate(r));
    const second = dispatcher.evaluate('field-mixture', items(40, 100));
    assertAnswers(await run(first), 7);
    assertAnswers(await run(second), 40, 100);
    const sizes = [...fakes.values()].flatMap((f) => f.calls);
    // An even share of the 47 items out over 8 slots is 6.
    assert.ok(Math.max(...sizes) <= 6, `batch sizes ${sizes.join(',')}`);
  } finally {
    close();
  }
});

test('dispatcher - a worker that confirms receipt gets its next batch only once it has the previous one', async (t) => {
  const { fakes, dispatcher, run, close } = await setup(t, ['only'], {}, {}, (w) => {
    w.latencyMs = 200;
    w.receiptAfterMs = 80; // and says so in Info
  });
  try {
    const w = fakes.get('only')!;
    // 32 items, max batch 16: two batches, both allowed in flight at once.
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(32))), 32);
    assert.deepEqual(w.events, ['call 16', 'received 16', 'call 16', 'received 16']);
  } finally {
    close();
  }
});

test('dispatcher - a worker that does not confirm receipt (no early headers) gets both slots filled at once', async (t) => {
  const { fakes, dispatcher, run, close } = await setup(t, ['only']);
  try {
    const w = fakes.get('only')!;
    w.latencyMs = 100;
    assertAnswers(await run(dispatcher.evaluate('field-mixture', items(32))), 32);
    assert.deepEqual(w.events, ['call 16', 'call 16']);
  } finally {
    close();
  }
});

test('dispatcher - one job\'s calls are served oldest first (the composite denoiser merges them in that order)', async (t) => {
  const { fakes, dispatcher, run, close } = await setup(t, ['only']);
  try {
    const opts = { jobId: 'job' };
    // Three calls of one job submitted together, as a composite round is.
    const outs = await run(Promise.all([0, 100, 200].map((base) => dispatcher.evaluate('field-mixture', items(24, base), opts))));
    outs.forEach((o, k) => assertAnswers(o, 24, k * 100));
    const order = fakes.get('only')!.firsts.map((v) => Math.floor(v / 100));
    // Every item of the first call went out before any of the second, and so on.
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `served calls in order ${order.join(',')}`);
  } finally {
    close();
  }
});

test('dispatcher - speculative work goes after every job\'s necessary work and never shares its batch', async (t) => {
  const { fakes, dispatcher, time, run, close } = await setup(t, ['only'], { maxInFlightPerWorker: 1 });
  try {
    const w = fakes.get('only')!;
    w.latencyMs = 10;
    // Queued in the same tick, the speculative request first.
    const speculative = dispatcher.evaluate('field-mixture', items(6), { jobId: 'a', speculative: true });
    const necessary = dispatcher.evaluate('field-mixture', items(3, 100), { jobId: 'b' });
    assertAnswers(await run(necessary), 3, 100);
    assertAnswers(await run(speculative), 6);
    assert.deepEqual(w.served.slice(0, 3), ['b', 'b', 'b']);
    assert.equal(w.calls[0], 3, 'the first batch carries the necessary items alone');
    // Necessary work arriving while speculative work waits goes first again.
    const more = dispatcher.evaluate('field-mixture', items(12), { jobId: 'a', speculative: true });
    await time.advance(5);
    const late = dispatcher.evaluate('field-mixture', items(1, 500), { jobId: 'c' });
    assertAnswers(await run(late), 1, 500);
    assertAnswers(await run(more), 12);
    // Calls so far: b x3, a x6, then the speculative batch already in flight when c came, then c first.
    const inFlight = w.calls[2]!;
    assert.equal(w.served.indexOf('c'), 9 + inFlight, `served ${w.served.join('')}`);
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
