/**
 * Flow-matching Euler (FlowMatchEulerDiscreteScheduler) golden values,
 * computed here by hand as exact fractions — never by calling the code
 * under test's helpers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowEulerScheduler, shiftSigma } from '../../coordinator/sampling/flow-euler.ts';
import { OUT, X, close, failsOnField } from '../helpers/scheduler-golden.ts';

describe('flow euler - sigmas match diffusers', () => {
  test('shift 3, n = 4: [1, 669/780, 56/93, 1/112], then 0', () => {
    // diffusers' __init__: sigma_max = shift(1) = 1, sigma_min = shift(1/1000) = 0.003 / 1.002 = 1/334.
    // set_timesteps: linspace(1000, 1000/334, 4) / 1000 = 1 - k (333/334)/3 = (334 - 111k)/334 = a/334,
    // then shift again: 3 (a/334) / (1 + 2 a/334) = 3a / (334 + 2a):
    //   a = 334: 1002/1002 = 1;  a = 223: 669/780;  a = 112: 336/558 = 56/93;  a = 1: 3/336 = 1/112
    const s = new FlowEulerScheduler({}, 4);
    close(s.sigmas, [1, 669 / 780, 56 / 93, 1 / 112, 0], 1e-14, 'sigmas');
    close(s.sigmas, [1, 0.8576923076923077, 0.6021505376344086, 0.008928571428571428, 0], 1e-14, 'sigmas (decimals)');
    // timesteps = sigmas * 1000 (diffusers, float32: [1000.0000, 857.6923, 602.1505, 8.9286])
    close(s.timesteps, [1000, 857.6923076923077, 602.1505376344086, 8.928571428571429], 1e-13, 'timesteps');
    assert.equal(s.initNoiseSigma, 1);
    assert.equal(s.predictionType, 'flow');
  });

  test('shift 1 (no shift): linspace(1, 0.001, 4) = [1, 0.667, 0.334, 0.001]', () => {
    close(new FlowEulerScheduler({ shift: 1 }, 4).sigmas, [1, 0.667, 0.334, 0.001, 0], 1e-14, 'sigmas');
  });

  test('one step: sigmas [1, 0]; shiftSigma(0.5, 3) = 1.5 / 2 = 0.75', () => {
    assert.deepEqual([...new FlowEulerScheduler({}, 1).sigmas], [1, 0]);
    assert.deepEqual([...new FlowEulerScheduler({}, 1).timesteps], [1000]);
    assert.equal(shiftSigma(0.5, 3), 0.75);
    assert.equal(shiftSigma(1, 3), 1);
  });

  test('levels: {alpha: 1 - sigma, sigma}, pure noise first, clean last; scale 1; no noise', () => {
    const s = new FlowEulerScheduler({}, 4);
    assert.deepEqual(s.noiseLevel(0), { alpha: 0, sigma: 1 });
    const l1 = s.noiseLevel(1);
    assert.ok(Math.abs(l1.alpha - 111 / 780) < 1e-15 && Math.abs(l1.sigma - 669 / 780) < 1e-15);
    assert.deepEqual(s.noiseLevel(4), { alpha: 1, sigma: 0 });
    assert.equal(s.modelInputScale(0), 1);
    assert.equal(s.noiseCoefficient(0), 0);
  });
});

describe('flow euler - one step on a 4-element vector (shift 3, n = 4, step 1: 669/780 -> 56/93)', () => {
  test('x_next = x + dt v, dt = 56/93 - 669/780 = -6179/24180 = -0.25554177005790', () => {
    const s = new FlowEulerScheduler({}, 4);
    const { prevSample, predOriginalSample } = s.step(1, X, OUT);
    const t = 669 / 780;
    // x0 = x - t v
    close(predOriginalSample, [1 - t * 0.5, -0.5 - t, 0.25 + t, 2], 1e-6, 'x0');
    // 1 - 0.2555417700579 * 0.5 = 0.87222911497105; -0.5 - 0.25554177 = -0.75554177; 0.25 + 0.25554177
    close(prevSample, [0.8722291149710505, -0.7555417700578991, 0.5055417700578991, 2], 1e-6, 'prev');
    // the same step from (x0Hat, epsHat): v = eps - x0
    const x0 = new Float32Array([0.5, 1, -1, 0]);
    const eps = new Float32Array([1, 2, -2, 0]); // v = eps - x0 = [0.5, 1, -1, 0]
    close(s.stepDeterministic(1, X, x0, eps), [1 - 0.2555417700578991 * 0.5, -0.5 - 0.2555417700578991, 0.25 + 0.2555417700578991, 2], 1e-6, 'from pair');
  });

  test('the last step lands on x0Hat: x - sigma v', () => {
    const s = new FlowEulerScheduler({}, 4);
    const { prevSample } = s.step(3, X, OUT);
    close(prevSample, [1 - 0.5 / 112, -0.5 - 1 / 112, 0.25 + 1 / 112, 2], 1e-6, 'last');
  });
});

describe('flow euler - errors', () => {

  test('precise errors naming the field', () => {
    failsOnField(() => new FlowEulerScheduler({ predictionType: 'epsilon' } as never, 4), 'predictionType', /must be 'flow'.*got 'epsilon'/);
    failsOnField(() => new FlowEulerScheduler({ shift: 0 }, 4), 'shift', /finite number > 0, got 0/);
    failsOnField(() => new FlowEulerScheduler({ useDynamicShifting: true } as never, 4), 'useDynamicShifting', /not supported/);
    failsOnField(() => new FlowEulerScheduler({ baseShift: 0.5 } as never, 4), 'baseShift', /unknown flow Euler config field 'baseShift'/);
    failsOnField(() => new FlowEulerScheduler({ numTrainTimesteps: 0 }, 4), 'numTrainTimesteps', /integer >= 1, got 0/);
    failsOnField(() => new FlowEulerScheduler({}, 0), 'numInferenceSteps', /integer >= 1, got 0/);
  });
});
