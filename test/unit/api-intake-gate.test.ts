import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntakeGate } from '../../coordinator/api/intake-gate.ts';
import { ResourceExhaustedError } from '../../common/errors.ts';

test('intake gate - per tenant past its limit: RESOURCE_EXHAUSTED at once; per coordinator: wait in order, then refuse past the waiting limit', async () => {
  const gate = new IntakeGate({ perCoordinator: 2, perTenant: 2, maxWaiting: 1 });
  const a1 = await gate.enter('a');
  const a2 = await gate.enter('a');
  await assert.rejects(gate.enter('a'), (e: unknown) => e instanceof ResourceExhaustedError && /tenant "a" has 2 uploaded inputs being checked/.test(e.message));
  // The coordinator is full: b waits, c cannot even wait.
  const order: string[] = [];
  const b = gate.enter('b').then((release) => {
    order.push('b');
    return release;
  });
  await assert.rejects(gate.enter('c'), /2 uploaded inputs are being checked and 1 wait/);
  assert.deepEqual(gate.load, { active: 2, waiting: 1 });
  a1();
  a1(); // a second release is a no-op
  const bRelease = await b;
  assert.deepEqual(order, ['b']);
  assert.deepEqual(gate.load, { active: 2, waiting: 0 });
  // d waits for the next release, then everything drains.
  const d = gate.enter('d');
  a2();
  const dRelease = await d;
  bRelease();
  dRelease();
  assert.deepEqual(gate.load, { active: 0, waiting: 0 });
  (await gate.enter('a'))();
  assert.throws(() => new IntakeGate({ perCoordinator: 0, perTenant: 1, maxWaiting: 0 }), /perCoordinator/);
});
