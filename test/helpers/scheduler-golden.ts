/**
 * Shared fixtures of the scheduler golden-value tests
 * (test/unit/sampling-{ddim,ddpm,euler,flow-euler}.test.ts): the tiny
 * training schedule and 4-element vectors their hand arithmetic uses, the
 * relative-tolerance comparison, and the check of a field-naming
 * SchedulerConfigError.
 */
import assert from 'node:assert/strict';
import type { TrainSchedule } from '../../common/noise-schedule.ts';
import { SchedulerConfigError } from '../../coordinator/sampling/errors.ts';

/** Tiny schedule for hand arithmetic: betas 0.1, 0.2, 0.3, 0.4 -> abar 0.9, 0.72, 0.504, 0.3024. */
export const TINY: TrainSchedule = Object.freeze({ numTrainTimesteps: 4, betaSchedule: 'linear', betaStart: 0.1, betaEnd: 0.4 });
/** The sample x of the one-step tests. */
export const X = new Float32Array([1, -0.5, 0.25, 2]);
/** The model output of the one-step tests. */
export const OUT = new Float32Array([0.5, 1, -1, 0]);

/** Asserts `actual[k]` is within `tol * max(1, |expected[k]|)` of `expected[k]` for every k. */
export function close(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    const d = Math.abs(actual[k]! - expected[k]!);
    assert.ok(d <= tol * Math.max(1, Math.abs(expected[k]!)), `${what}[${k}] = ${actual[k]}, expected ${expected[k]}`);
  }
}

/** Asserts `fn` throws a SchedulerConfigError on `field` whose message matches `message`. */
export function failsOnField(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SchedulerConfigError, `expected SchedulerConfigError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}
