import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAnswers, items, setup } from '../helpers/dispatcher-fixture.ts';

/**
 * The dispatcher's order of work (fair share, oldest first, speculative work
 * last), batch sizes and receipts against scripted fake workers in virtual
 * time (test/helpers/dispatcher-fixture.ts).
 */

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
