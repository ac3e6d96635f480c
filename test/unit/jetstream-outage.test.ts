import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnavailableError } from '../../common/errors.ts';
import { isNatsOutage, outagesUnavailable } from '../../coordinator/jetstream/outage.ts';

class Named extends Error {
  constructor(name: string, cause?: unknown) {
    super(`a ${name}`, { cause });
    this.name = name;
  }
}

test('jetstream outage - NATS timeouts and lost connections, also as a cause, are outages; other errors are not', () => {
  assert.ok(isNatsOutage(new Named('TimeoutError')));
  assert.ok(isNatsOutage(new Named('RequestError', new Named('NoResponders'))));
  assert.ok(isNatsOutage(new Error('wrapped', { cause: new Named('ClosedConnectionError') })));
  assert.ok(!isNatsOutage(new Named('JetStreamApiError')));
  assert.ok(!isNatsOutage(new Error('timeout')));
  assert.ok(!isNatsOutage('TimeoutError'));
});

test('jetstream outage - a wrapped port says UnavailableError for outages, passes the rest, and keeps its private state', async () => {
  class Port {
    #calls = 0;
    async get(fail: Error | undefined): Promise<number> {
      this.#calls++;
      if (fail) throw fail;
      return this.#calls;
    }
    close(): void {
      throw new Named('ConnectionError');
    }
  }
  const port = outagesUnavailable(new Port(), 'job store');
  assert.equal(await port.get(undefined), 1);
  await assert.rejects(port.get(new Named('TimeoutError')), (e: Error) => e instanceof UnavailableError && /^job store unavailable: NATS did not answer \(a TimeoutError\)$/.test(e.message) && e.cause instanceof Named);
  const other = new Named('JetStreamApiError');
  await assert.rejects(port.get(other), (e) => e === other);
  assert.throws(() => port.close(), UnavailableError);
  assert.equal(await port.get(undefined), 4);
  assert.ok(port instanceof Port);
});
