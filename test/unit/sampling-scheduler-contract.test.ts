/**
 * The scheduler contract, run against every scheduler: shapes, determinism,
 * config round trip through JSON and the registry, the final level, the
 * step of an exact (x0, eps) pair, index ranges and field-naming errors.
 *
 * Exact-pair step. For `x_i = alpha_i x0 + sigma_i eps`, every scheduler's
 * deterministic step lands on `alpha_{i+1} x0 + k_i eps` with a
 * family-specific eps coefficient k_i:
 * - DDIM: `sqrt(sigma_{i+1}^2 - c_i^2)` (formula (12), "direction pointing to x_t");
 * - DDPM: `sqrt(alpha_t) (1 - abar_prev) / sqrt(1 - abar_t)` = `(alpha_i / alpha_{i+1}) sigma_{i+1}^2 / sigma_i`
 *   (the x_t coefficient of formula (7) times sigma_i), with
 *   `k_i^2 + beta~_t = sigma_{i+1}^2` (the marginal is preserved);
 * - Euler, flow Euler: `sigma_{i+1}` (the ODE step of an exact pair is exact).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../common/rng.ts';
import { DdpmScheduler } from '../../coordinator/sampling/ddpm.ts';
import { SchedulerConfigError } from '../../coordinator/sampling/errors.ts';
import type { NoiseLevel } from '../../coordinator/sampling/prediction.ts';
import { createScheduler, SCHEDULER_KINDS, type SchedulerKind } from '../../coordinator/sampling/registry.ts';
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';

interface Case {
  name: string;
  kind: SchedulerKind;
  config: Record<string, unknown>;
  n: number;
  /** Expected `noiseLevel(numSteps)`. */
  final: NoiseLevel;
  stochastic: boolean;
  /** eps coefficient of the exact-pair step (see the file comment). */
  epsCoeff: (s: Scheduler, i: number) => number;
}

const ddimCoeff = (s: Scheduler, i: number): number =>
  Math.sqrt(Math.max(0, s.noiseLevel(i + 1).sigma ** 2 - s.noiseCoefficient(i) ** 2));
const ddpmCoeff = (s: Scheduler, i: number): number => {
  const { alpha: a, sigma: sg } = s.noiseLevel(i);
  const next = s.noiseLevel(i + 1);
  return ((a / next.alpha) * next.sigma ** 2) / sg;
};
const odeCoeff = (s: Scheduler, i: number): number => s.noiseLevel(i + 1).sigma;
const ABAR_0 = 0.99915;

const CASES: readonly Case[] = [
  { name: 'ddim eta 0', kind: 'ddim', config: {}, n: 50, final: { alpha: Math.sqrt(ABAR_0), sigma: Math.sqrt(1 - ABAR_0) }, stochastic: false, epsCoeff: ddimCoeff },
  {
    name: 'ddim eta 1 trailing',
    kind: 'ddim',
    config: { eta: 1, timestepSpacing: 'trailing', setAlphaToOne: true, predictionType: 'v_prediction' },
    n: 20,
    final: { alpha: 1, sigma: 0 },
    stochastic: true,
    epsCoeff: ddimCoeff,
  },
  { name: 'ddpm fixed_small', kind: 'ddpm', config: {}, n: 50, final: { alpha: 1, sigma: 0 }, stochastic: true, epsCoeff: ddpmCoeff },
  {
    name: 'ddpm fixed_large trailing 13',
    kind: 'ddpm',
    config: { varianceType: 'fixed_large', timestepSpacing: 'trailing', predictionType: 'sample', clipSample: false },
    n: 13,
    final: { alpha: 1, sigma: 0 },
    stochastic: true,
    epsCoeff: ddpmCoeff,
  },
  { name: 'euler', kind: 'euler', config: {}, n: 50, final: { alpha: 1, sigma: 0 }, stochastic: false, epsCoeff: odeCoeff },
  {
    name: 'euler karras linspace',
    kind: 'euler',
    config: { useKarrasSigmas: true, timestepSpacing: 'linspace', stepsOffset: 0, predictionType: 'v_prediction' },
    n: 30,
    final: { alpha: 1, sigma: 0 },
    stochastic: false,
    epsCoeff: odeCoeff,
  },
  { name: 'flow_euler', kind: 'flow_euler', config: {}, n: 28, final: { alpha: 1, sigma: 0 }, stochastic: false, epsCoeff: odeCoeff },
  { name: 'flow_euler shift 1', kind: 'flow_euler', config: { shift: 1 }, n: 10, final: { alpha: 1, sigma: 0 }, stochastic: false, epsCoeff: odeCoeff },
];

const LEN = 64;
const vec = (seed: number): Float32Array => new Rng(seed).fillNormal(new Float32Array(LEN));

/** `alpha x0 + sigma eps`, rounded to float32. */
function mix(alpha: number, x0: Float32Array, sigma: number, eps: Float32Array): Float32Array {
  return x0.map((v, k) => alpha * v + sigma * eps[k]!);
}

function build(c: Case): Scheduler {
  return createScheduler(c.kind, c.config, c.n);
}

for (const c of CASES) {
  describe(`scheduler contract - ${c.name}`, () => {
    test('shapes: timesteps, levels, scales and coefficients', () => {
      const s = build(c);
      assert.equal(s.kind, c.kind);
      assert.equal(s.numSteps, c.n);
      assert.equal(s.timesteps.length, c.n);
      assert.equal(s.predictionType, (c.config['predictionType'] as string | undefined) ?? (c.kind === 'flow_euler' ? 'flow' : 'epsilon'));
      for (let i = 0; i < c.n; i++) {
        assert.ok(Number.isFinite(s.timesteps[i]), `timestep ${i}`);
        if (i > 0) assert.ok(s.timesteps[i]! < s.timesteps[i - 1]!, `timesteps descend at ${i}`);
        const c0 = s.noiseCoefficient(i);
        assert.ok(Number.isFinite(c0) && c0 >= 0, `noise coefficient ${i} = ${c0}`);
        if (!c.stochastic) assert.equal(c0, 0);
        const scale = s.modelInputScale(i);
        const { sigma } = s.noiseLevel(i);
        assert.equal(scale, c.kind === 'euler' ? 1 / Math.sqrt(sigma * sigma + 1) : 1);
      }
      if (c.stochastic) assert.ok(s.noiseCoefficient(0) > 0);
      for (let i = 0; i <= c.n; i++) {
        const { alpha, sigma } = s.noiseLevel(i);
        assert.ok(Number.isFinite(alpha) && Number.isFinite(sigma) && alpha >= 0 && sigma >= 0, `level ${i}`);
        if (c.kind !== 'euler') assert.ok(alpha <= 1 && sigma <= 1, `level ${i} in [0, 1]`);
        if (i > 0) {
          // strictly less noise at each step: sigma/alpha decreases (cross-multiplied: alpha_0 may be 0 for flow)
          const prev = s.noiseLevel(i - 1);
          assert.ok(sigma * prev.alpha < prev.sigma * alpha, `noise-to-signal decreases at ${i}`);
        }
      }
      const s0 = s.noiseLevel(0).sigma;
      if (c.kind === 'euler') {
        const leading = (c.config['timestepSpacing'] ?? 'leading') === 'leading';
        assert.equal(s.initNoiseSigma, leading ? Math.sqrt(s0 * s0 + 1) : s0);
      } else {
        assert.equal(s.initNoiseSigma, 1);
      }
    });

    test('determinism: same inputs give the same bits, in place or not', () => {
      const a = build(c);
      const b = build(c);
      const x = vec(1);
      const x0 = vec(2);
      const eps = vec(3);
      for (const i of [0, Math.floor(c.n / 2), c.n - 1]) {
        const first = a.stepDeterministic(i, x, x0, eps);
        assert.deepEqual(b.stepDeterministic(i, x, x0, eps), first);
        const out = new Float32Array(LEN);
        assert.equal(a.stepDeterministic(i, x, x0, eps, out), out);
        assert.deepEqual(out, first);
        const inPlace = Float32Array.from(x);
        a.stepDeterministic(i, inPlace, x0, eps, inPlace);
        assert.deepEqual(inPlace, first);
        assert.equal(a.noiseCoefficient(i), b.noiseCoefficient(i));
      }
    });

    test('config round-trips through JSON and the registry into an identical scheduler', () => {
      const s = build(c);
      const json = JSON.stringify({ kind: s.kind, config: s.config, numSteps: s.numSteps });
      const spec = JSON.parse(json) as { kind: string; config: unknown; numSteps: number };
      const copy = createScheduler(spec.kind, spec.config, spec.numSteps);
      assert.equal(copy.constructor, s.constructor);
      assert.deepEqual(copy.config, s.config);
      assert.deepEqual(copy.timesteps, s.timesteps);
      assert.equal(copy.initNoiseSigma, s.initNoiseSigma);
      const x = vec(4);
      const x0 = vec(5);
      const eps = vec(6);
      for (let i = 0; i < c.n; i++) {
        assert.deepEqual(copy.noiseLevel(i), s.noiseLevel(i));
        assert.equal(copy.modelInputScale(i), s.modelInputScale(i));
        assert.equal(copy.noiseCoefficient(i), s.noiseCoefficient(i));
        assert.deepEqual(copy.stepDeterministic(i, x, x0, eps), s.stepDeterministic(i, x, x0, eps));
      }
      assert.deepEqual(copy.noiseLevel(c.n), s.noiseLevel(c.n));
      // and the defaults fill in: a config of only defaults equals the empty config
      assert.deepEqual(createScheduler(c.kind, undefined, c.n).config, createScheduler(c.kind, {}, c.n).config);
    });

    test('noiseLevel(numSteps) is the final level', () => {
      const { alpha, sigma } = build(c).noiseLevel(c.n);
      assert.ok(Math.abs(alpha - c.final.alpha) < 1e-15 && Math.abs(sigma - c.final.sigma) < 1e-15, `${alpha}, ${sigma}`);
    });

    test('the step of an exact (x0, eps) pair lands on alpha_{i+1} x0 + k_i eps', () => {
      const s = build(c);
      const x0 = vec(7);
      const eps = vec(8);
      for (let i = 0; i < c.n; i++) {
        const { alpha, sigma } = s.noiseLevel(i);
        const x = mix(alpha, x0, sigma, eps);
        const next = s.noiseLevel(i + 1);
        const k = c.epsCoeff(s, i);
        const got = s.stepDeterministic(i, x, x0, eps);
        // float32 inputs: the error scales with the largest magnitude involved (Euler's sigma reaches 14.6)
        const tol = 1e-6 * (1 + sigma + k);
        for (let j = 0; j < LEN; j++) {
          const want = next.alpha * x0[j]! + k * eps[j]!;
          assert.ok(Math.abs(got[j]! - want) <= tol, `step ${i}[${j}]: ${got[j]} vs ${want}`);
        }
        if (c.kind === 'ddpm' && (c.config['varianceType'] ?? 'fixed_small') === 'fixed_small') {
          // k^2 + beta~ = sigma_{i+1}^2: mean plus ancestral noise has the next marginal's variance
          const variance = (s as DdpmScheduler).stepCoefficients(i).variance;
          assert.ok(Math.abs(k * k + variance - next.sigma ** 2) < 1e-12, `marginal at ${i}`);
        }
      }
    });

    test('out-of-range step indices throw RangeError', () => {
      const s = build(c);
      const x = vec(9);
      for (const bad of [-1, c.n, 0.5, Number.NaN]) {
        assert.throws(() => s.stepDeterministic(bad, x, x, x), RangeError, `step ${bad}`);
        assert.throws(() => s.noiseCoefficient(bad), RangeError);
        assert.throws(() => s.modelInputScale(bad), RangeError);
      }
      assert.throws(() => s.noiseLevel(c.n + 1), /step index \d+ is outside \[0, \d+\)/);
      assert.throws(() => s.noiseLevel(-1), RangeError);
      assert.throws(() => s.stepDeterministic(0, x, new Float32Array(3), x), RangeError);
      assert.throws(() => s.stepDeterministic(0, x, x, x, new Float32Array(3)), RangeError);
    });

    test('errors name the field', () => {
      const field = (fn: () => unknown): string => {
        try {
          fn();
        } catch (err) {
          assert.ok(err instanceof SchedulerConfigError, `expected SchedulerConfigError, got ${String(err)}`);
          return err.field;
        }
        assert.fail('expected an error');
      };
      assert.equal(field(() => createScheduler(c.kind, { ...c.config, bogusField: 1 }, c.n)), 'bogusField');
      assert.equal(field(() => createScheduler(c.kind, null, c.n)), 'config');
      assert.equal(field(() => createScheduler(c.kind, [], c.n)), 'config');
      assert.equal(field(() => createScheduler(c.kind, c.config, 0)), 'numInferenceSteps');
      assert.equal(field(() => createScheduler(c.kind, { ...c.config, predictionType: 'x0' }, c.n)), 'predictionType');
    });
  });
}

describe('scheduler contract - registry', () => {
  test('SCHEDULER_KINDS lists every kind; each builds its own class with defaults', () => {
    assert.deepEqual([...SCHEDULER_KINDS], ['ddim', 'ddpm', 'euler', 'flow_euler']);
    for (const kind of SCHEDULER_KINDS) assert.equal(createScheduler(kind, {}, 10).kind, kind);
    assert.ok(CASES.every((c) => SCHEDULER_KINDS.includes(c.kind)));
    assert.deepEqual(new Set(CASES.map((c) => c.kind)), new Set(SCHEDULER_KINDS));
  });

  test('an unknown kind names the field `kind` and lists the kinds', () => {
    assert.throws(
      () => createScheduler('dpmpp_2m', {}, 10),
      (err: unknown) =>
        err instanceof SchedulerConfigError &&
        err.field === 'kind' &&
        /scheduler kind must be one of ddim, ddpm, euler, flow_euler, got 'dpmpp_2m'/.test(err.message),
    );
    assert.throws(() => createScheduler(undefined as never, {}, 10), /got undefined/);
  });

  test('a config of one kind is rejected by another, naming the foreign field', () => {
    assert.throws(() => createScheduler('ddpm', { eta: 0.5 }, 10), (err: unknown) => err instanceof SchedulerConfigError && err.field === 'eta');
    assert.throws(() => createScheduler('flow_euler', { trainSchedule: {} }, 10), (err: unknown) => err instanceof SchedulerConfigError && err.field === 'trainSchedule');
    assert.throws(
      () => createScheduler('euler', { trainSchedule: { numTrainTimesteps: 1000, betaSchedule: 'cosine', betaStart: 0.1, betaEnd: 0.2 } }, 10),
      (err: unknown) => err instanceof SchedulerConfigError && err.field === 'trainSchedule.betaSchedule',
    );
  });
});
