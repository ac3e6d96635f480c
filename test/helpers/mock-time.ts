import type { TestContext } from 'node:test';
import type { Clock } from '../../coordinator/cluster/clock.ts';

/**
 * Virtual time for unit tests: node:test mock timers (`setTimeout`,
 * `setInterval`, `Date`) advanced one millisecond at a time, with every
 * promise callback that became ready run between steps. Code under test
 * that reads `performance.now()` takes `clock` instead (coordinator/cluster/clock.ts).
 *
 * A test asserts what happened by a virtual time, so it holds however slow
 * or busy the machine is. The mock timers are restored when the test ends
 * (timers still pending then are dropped). `setImmediate` stays real: it is
 * how the steps let promise callbacks run.
 */
export class MockTime {
  /** Reads virtual milliseconds. */
  readonly clock: Clock = { now: () => Date.now() };

  constructor(
    private readonly t: TestContext,
    start = 1_000_000,
  ) {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: start });
  }

  /** Virtual milliseconds now. */
  now(): number {
    return Date.now();
  }

  /** Lets `ms` virtual milliseconds pass. */
  async advance(ms: number): Promise<void> {
    await settle();
    for (let i = 0; i < ms; i++) {
      this.t.mock.timers.tick(1);
      await settle();
    }
  }

  /** Lets virtual time pass until `work` settles (at most `limitMs`, then fails: a hang in virtual time is a bug). */
  async run<T>(work: Promise<T>, limitMs = 600_000): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    const end = this.now() + limitMs;
    await settle();
    while (!settled) {
      if (this.now() >= end) throw new Error(`still pending after ${limitMs} virtual ms`);
      this.t.mock.timers.tick(1);
      await settle();
    }
    return work;
  }
}

/** Runs every promise callback that is ready (they all run before the next immediate). */
function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
