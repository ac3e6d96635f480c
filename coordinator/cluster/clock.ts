/**
 * The time the dispatcher reads: when a call started, how long it took
 * (each worker's pace), when a batch is a straggler, how long a request has
 * waited for a worker.
 *
 * An injected seam so unit tests run the dispatcher in virtual time: node:test
 * mock timers fake `setTimeout`, `setInterval` and `Date` but not
 * `performance.now()`, so a test passes `{ now: () => Date.now() }` and
 * advances the mock timers (test/helpers/mock-time.ts). Timers themselves
 * need no seam: the mocked globals are the ones the dispatcher calls.
 */
export interface Clock {
  /** Milliseconds; only differences are meaningful. */
  now(): number;
}

/** The real clock: monotonic, unaffected by wall-clock adjustments. */
export const MONOTONIC_CLOCK: Clock = { now: () => performance.now() };
