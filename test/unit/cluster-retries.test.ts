import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../common/logger.ts';
import { EvalRequest } from '../../coordinator/cluster/eval-request.ts';
import { Retries } from '../../coordinator/cluster/retries.ts';
import { WorkerRegistry } from '../../coordinator/cluster/worker-registry.ts';
import { ENTRY_MODEL, workerEntry, workItems } from '../helpers/worker-entries.ts';

/**
 * What a failed Evaluate call does to the requests it carried
 * (coordinator/cluster/retries.ts), on hand-built requests: their items go
 * back to the queue, the worker's failure is recorded once, and a request
 * whose item used up its attempts fails.
 */
function setup(maxAttempts = 3) {
  const lines: string[] = [];
  const log = createLogger('test', { level: 'warn', write: (l) => lines.push(l) });
  const registry = new WorkerRegistry({ maxMessageBytes: 1 << 20, infoTimeoutMs: 100, probeIntervalMs: 60_000, maxConsecutiveFailures: 10, log, connect: () => assert.fail('no calls') });
  const wire = { retries: 0 };
  const failed: [EvalRequest, string][] = [];
  const retries = new Retries(registry, { maxAttempts, log }, wire, (p, err) => failed.push([p, err.message]));
  return { lines, wire, failed, retries };
}

/** A request of `n` items, `sent` of them taken for worker `address`. */
function request(n: number, sent: number, address: string, opts = {}): { p: EvalRequest; items: number[] } {
  const p = new EvalRequest(ENTRY_MODEL, workItems(n), opts, () => undefined, () => undefined);
  return { p, items: p.take(address, sent, [address, 'other']) };
}

const boom = Object.assign(new Error('13 INTERNAL: boom'), { code: grpc.status.INTERNAL, details: 'boom' });

test('retries - a failed call puts its items back at the front of each request\'s queue, with one log line for the call', async () => {
  const { lines, wire, failed, retries } = setup();
  const w = await workerEntry('a');
  const x = request(5, 3, 'a', { jobId: 'x' });
  const y = request(2, 2, 'a', { jobId: 'y' });
  retries.failed(w, [x, y], boom);
  assert.deepEqual(x.p.queue, [0, 1, 2, 3, 4]);
  assert.deepEqual(y.p.queue, [0, 1]);
  assert.equal(x.p.lastError, 'worker a: 13 INTERNAL: boom');
  assert.equal(wire.retries, 1);
  assert.equal(lines.filter((l) => l.includes('batch failed, will retry')).length, 1);
  assert.match(lines[0]!, /job=x,y/);
  assert.equal(w.consecutiveFailures, 1, 'the worker\'s failure is recorded once per call');
  assert.equal(failed.length, 0);
  // The items that failed on `a` go elsewhere while another worker serves; the others may still go to `a`.
  assert.deepEqual(x.p.take('a', 5, ['a', 'other']), [3, 4]);
  assert.deepEqual(x.p.take('other', 5, ['a', 'other']), [0, 1, 2]);
});

test('retries - an item that failed maxAttempts times fails its request with the last error', async () => {
  const { failed, retries } = setup(2);
  const x = request(1, 1, 'a');
  retries.failed(await workerEntry('a'), [x], boom);
  assert.equal(failed.length, 0);
  x.p.take('other', 1, ['a', 'other']);
  retries.failed(await workerEntry('other'), [x], boom);
  assert.deepEqual(failed, [[x.p, 'evaluation failed after 2 attempts; last error: worker other: 13 INTERNAL: boom']]);
});

test('retries - nothing to retry: settled or canceled requests are dropped, answered items are not re-queued', async () => {
  const { lines, wire, retries } = setup();
  const w = await workerEntry('a');
  const done = request(2, 2, 'a');
  done.p.settle();
  const aborted = new AbortController();
  const canceled = request(2, 2, 'a', { signal: aborted.signal });
  aborted.abort();
  retries.failed(w, [done, canceled], boom);
  assert.equal(w.consecutiveFailures, 0, 'a call nobody waits for says nothing about the worker');
  assert.equal(wire.retries, 0);
  // A duplicate already answered every item of the failed copy: the worker's failure counts, nothing is retried.
  const answered = request(2, 2, 'a');
  answered.p.fill(answered.items, [new Float32Array(2), new Float32Array(2)]);
  retries.failed(w, [answered], boom);
  assert.equal(w.consecutiveFailures, 1);
  assert.equal(wire.retries, 0);
  assert.deepEqual(answered.p.queue, []);
  assert.equal(lines.length, 0);
});
