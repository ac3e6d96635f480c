/**
 * DDPM golden values. Expected numbers are computed here by hand (arithmetic
 * written out, decimals checked in 40-digit decimal arithmetic), or are the
 * outputs diffusers prints (quoted where so) — never by calling the code
 * under test's helpers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';
import { Rng } from '../../common/rng.ts';
import { DdpmScheduler } from '../../coordinator/sampling/ddpm.ts';
import { modelOutputToX0Eps } from '../../coordinator/sampling/model-output.ts';
import { sampleSequential, stepNoise } from '../../coordinator/sampling/sequential.ts';
import { OUT, TINY, X, close, failsOnField } from '../helpers/scheduler-golden.ts';

const Z = new Float32Array([1, -1, 0.5, 2]);

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} = ${actual}, expected ${expected}`);
}

describe('ddpm - timesteps and previous timesteps match diffusers', () => {
  const ts = (timestepSpacing: 'leading' | 'trailing' | 'linspace', n: number, stepsOffset = 0): number[] => [
    ...new DdpmScheduler({ timestepSpacing, stepsOffset }, n).timesteps,
  ];

  test('leading 10 steps with steps_offset 1: [901, 801, ..., 1]', () => {
    assert.deepEqual(ts('leading', 10, 1), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    assert.deepEqual([...new DdpmScheduler({}, 10).timesteps], [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  test('trailing 13 steps: the list diffusers prints (issue #9261)', () => {
    assert.deepEqual(ts('trailing', 13), [999, 922, 845, 768, 691, 614, 537, 461, 384, 307, 230, 153, 76]);
  });

  test('linspace 10 steps: round(linspace(0, 999, 10)) reversed', () => {
    assert.deepEqual(ts('linspace', 10), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  });

  test('previous_timestep: the next listed timestep, -1 after the last (diffusers >= 0.31)', () => {
    // leading: identical to t - 1000 // 10, except the end (-1 instead of -99; both select abar = 1)
    const leading = new DdpmScheduler({}, 10);
    assert.deepEqual(
      Array.from({ length: 10 }, (_, i) => leading.stepCoefficients(i).prevTimestep),
      [801, 701, 601, 501, 401, 301, 201, 101, 1, -1],
    );
    // trailing 13: 999 -> 922 (t - 1000 // 13 = 923 would land off the schedule), 76 -> -1 (not 0)
    const trailing = new DdpmScheduler({ timestepSpacing: 'trailing' }, 13);
    assert.equal(trailing.stepCoefficients(0).prevTimestep, 922);
    assert.equal(trailing.stepCoefficients(7).prevTimestep, 384);
    assert.equal(trailing.stepCoefficients(12).prevTimestep, -1);
    assert.equal(trailing.stepCoefficients(12).alphaProdTPrev, 1);
    // linspace 10: 999 -> 888 (t - 100 = 899 would land off the schedule)
    const linspace = new DdpmScheduler({ timestepSpacing: 'linspace' }, 10);
    assert.equal(linspace.stepCoefficients(0).prevTimestep, 888);
    assert.equal(linspace.stepCoefficients(9).prevTimestep, -1);
    // so every step lands on the level the model is told at the next step
    for (const s of [leading, trailing, linspace]) {
      for (let i = 0; i + 1 < s.numSteps; i++) {
        assert.equal(s.stepCoefficients(i).alphaProdTPrev, s.stepCoefficients(i + 1).alphaProdT);
        assert.deepEqual(s.noiseLevel(i + 1), {
          alpha: Math.sqrt(s.stepCoefficients(i).alphaProdTPrev),
          sigma: Math.sqrt(1 - s.stepCoefficients(i).alphaProdTPrev),
        });
      }
      assert.deepEqual(s.noiseLevel(s.numSteps), { alpha: 1, sigma: 0 });
    }
  });
});

describe('ddpm - posterior variance on the Stable Diffusion schedule', () => {
  // abar_t from 40-digit products of (1 - beta_i), beta_i = (sqrt(0.00085) + (sqrt(0.012) - sqrt(0.00085)) i / 999)^2
  const ABAR_801 = 0.03654652460771407;
  const ABAR_901 = 0.01400489789394394;

  test('t = 901 -> 801: beta_t = 1 - abar_901/abar_801, beta~_t = (1 - abar_801)/(1 - abar_901) beta_t', () => {
    const s = new DdpmScheduler({}, 10);
    const c = s.stepCoefficients(0);
    near(c.alphaProdT, ABAR_901, 1e-15, 'abar_901');
    near(c.alphaProdTPrev, ABAR_801, 1e-15, 'abar_801');
    // beta_t = 1 - 0.01400489789394394 / 0.03654652460771407 = 1 - 0.38320737866 = 0.61679262134304703
    near(c.currentBetaT, 0.616792621343047, 1e-13, 'current_beta_t');
    // beta~_t = (0.96345347539228593 / 0.98599510210605606) * 0.61679262134304703 = 0.60269162935999838
    near(c.variance, 0.6026916293599984, 1e-13, 'fixed_small variance');
    near(s.noiseCoefficient(0), Math.sqrt(0.6026916293599984), 1e-13, 'fixed_small std');
    const large = new DdpmScheduler({ varianceType: 'fixed_large' }, 10);
    near(large.stepCoefficients(0).variance, 0.616792621343047, 1e-13, 'fixed_large variance');
    near(large.noiseCoefficient(0), Math.sqrt(0.616792621343047), 1e-13, 'fixed_large std');
  });

  test('trailing 13, t = 999 -> 922: beta~ = 0.58069280617357', () => {
    const c = new DdpmScheduler({ timestepSpacing: 'trailing' }, 13).stepCoefficients(0);
    near(c.variance, 0.5806928061735719, 1e-13, 'variance 999 -> 922');
  });
});

describe('ddpm - one step on a 4-element vector (abar_t = 0.504 -> abar_prev = 0.9)', () => {
  // numTrain 4, 2 leading steps, offset 0: timesteps [2, 0]; step 0 goes from t = 2 to t = 0.
  const make = (predictionType: 'epsilon' | 'sample' | 'v_prediction', varianceType: 'fixed_small' | 'fixed_large' = 'fixed_small'): DdpmScheduler =>
    new DdpmScheduler({ trainSchedule: TINY, stepsOffset: 0, predictionType, varianceType }, 2);

  test('coefficients of formula (7)', () => {
    const c = make('epsilon').stepCoefficients(0);
    assert.deepEqual([c.timestep, c.prevTimestep], [2, 0]);
    // current_alpha_t = 0.504 / 0.9 = 0.56, current_beta_t = 0.44
    near(c.currentBetaT, 0.44, 1e-15, 'current_beta_t');
    // pred_original_sample_coeff = sqrt(0.9) 0.44 / 0.496 = 0.94868329805 * 0.44 / 0.496
    near(c.x0Coeff, 0.8415738934319074, 1e-15, 'x0Coeff');
    // current_sample_coeff = sqrt(0.56) 0.1 / 0.496 = 0.74833147735 * 0.1 / 0.496
    near(c.sampleCoeff, 0.1508732817247557, 1e-15, 'sampleCoeff');
    // beta~ = (0.1 / 0.496) 0.44 = 0.0887096774193548 (DDIM's eta = 1 variance)
    near(c.variance, 0.0887096774193548, 1e-15, 'variance');
    near(c.stdDevT, 0.2978416985906353, 1e-15, 'std');
  });

  test('epsilon: x0 = (x - sqrt(0.496) e) / sqrt(0.504); mean = 0.84157 x0 + 0.15087 x; + 0.29784 z', () => {
    const s = make('epsilon');
    const { prevSample, predOriginalSample } = s.step(0, X, OUT, Z);
    close(predOriginalSample, [0.912574551785631, -1.696326957797557, 1.344179351660675, 2.817180849095055], 1e-6, 'x0');
    // mean[0] = 0.8415738934 * 0.9125745518 + 0.1508732817 * 1 = 0.9188722003
    const mean = [0.918872200317867, -1.503021123269571, 1.16894457087904, 2.672612419124244];
    close(s.stepDeterministic(0, X, predOriginalSample, OUT), mean, 1e-6, 'mean');
    // + sqrt(0.0887096774) z: 0.9188722003 + 0.2978416986 * 1 = 1.2167138989
    close(prevSample, [1.216713898908502, -1.800862821860206, 1.317865420174358, 3.268295816305514], 1e-6, 'prev');
  });

  test('fixed_large adds sqrt(beta_t) z = sqrt(0.44) z', () => {
    const { prevSample } = make('epsilon', 'fixed_large').step(0, X, OUT, Z);
    // 0.9188722003 + 0.6633249581 * 1 = 1.5821971584
    close(prevSample, [1.582197158388947, -2.166346081340651, 1.50060704991458, 3.999262335266404], 1e-6, 'prev');
  });

  test('v_prediction: x0 = sqrt(0.504) x - sqrt(0.496) v; sample: x0 = out', () => {
    const v = make('v_prediction');
    const x0v = v.step(0, X, OUT, Z).predOriginalSample;
    close(x0v, [0.3577932367387737, -1.0592374614523372, 0.8817550679593488, 1.4198591479439078], 1e-6, 'x0 (v)');
    close(v.stepDeterministic(0, X, x0v, OUT), [0.45198272901061, -0.966863235365751, 0.779780366027054, 1.496662954709577], 1e-6, 'mean (v)');
    const sample = make('sample');
    const x0s = sample.step(0, X, OUT, Z).predOriginalSample;
    close(x0s, [0.5, 1, -1, 0]);
    close(sample.stepDeterministic(0, X, x0s, OUT), [0.571660228440709, 0.76613725256953, -0.803855573000718, 0.301746563449511], 1e-6, 'mean (sample)');
  });

  test('fixed_small equals DDIM eta = 1 (same previous timestep, same variance)', () => {
    const ddim = new DdimScheduler({ trainSchedule: TINY, stepsOffset: 0, eta: 1 }, 2);
    close(make('epsilon').step(0, X, OUT, Z).prevSample, [...ddim.step(0, X, OUT, Z).prevSample], 1e-6, 'ddpm vs ddim');
  });

  test('last step t = 0 -> -1: abar_prev = 1, x_prev = x0Hat, no noise (`if t > 0`)', () => {
    const s = make('epsilon');
    const c = s.stepCoefficients(1);
    assert.deepEqual([c.timestep, c.prevTimestep, c.alphaProdTPrev], [0, -1, 1]);
    // beta_t = 1 - 0.9 = 0.1; x0Coeff = 1 * 0.1 / 0.1 = 1; sampleCoeff = sqrt(0.9) * 0 / 0.1 = 0
    near(c.x0Coeff, 1, 1e-15, 'x0Coeff');
    assert.equal(c.sampleCoeff, 0);
    assert.equal(s.noiseCoefficient(1), 0);
    assert.equal(make('epsilon', 'fixed_large').noiseCoefficient(1), 0);
    const x0 = (x: number, e: number): number => (x - Math.sqrt(0.1) * e) / Math.sqrt(0.9);
    close(s.step(1, X, OUT).prevSample, [x0(1, 0.5), x0(-0.5, 1), x0(0.25, -1), x0(2, 0)], 1e-6, 'last');
    assert.deepEqual(s.noiseLevel(2), { alpha: 1, sigma: 0 });
  });

  test('last step at t = 1 (steps_offset 1): diffusers still adds noise, clamped to sqrt(1e-20) for fixed_small', () => {
    // leading, ratio 2, offset 1: timesteps [3, 1]; step 1: t = 1 -> -1, beta~ = 0 -> clamp 1e-20
    const small = new DdpmScheduler({ trainSchedule: TINY, stepsOffset: 1 }, 2);
    assert.deepEqual([...small.timesteps], [3, 1]);
    assert.equal(small.stepCoefficients(1).variance, 1e-20);
    assert.equal(small.noiseCoefficient(1), 1e-10);
    // fixed_large: beta_t = 1 - 0.72 / 1 = 0.28, std sqrt(0.28) = 0.5291502622129181
    const large = new DdpmScheduler({ trainSchedule: TINY, stepsOffset: 1, varianceType: 'fixed_large' }, 2);
    near(large.noiseCoefficient(1), 0.5291502622129181, 1e-15, 'fixed_large last std');
    assert.throws(() => small.step(1, X, OUT), /step 1 is stochastic/);
  });
});

describe('ddpm - the sequential engine is the diffusers loop', () => {
  test('trailing 13 steps, v_prediction: sampleSequential equals a step() loop bit for bit', async () => {
    const s = new DdpmScheduler({ timestepSpacing: 'trailing', predictionType: 'v_prediction' }, 13);
    // a fixed nonlinear "model" of the sample and the timestep
    const model = (x: Float32Array, i: number): Float32Array => x.map((v) => Math.tanh(v) * 0.5 + s.timesteps[i]! / 2000);
    const initial = new Rng(3).fillNormal(new Float32Array(256));
    const out = await sampleSequential({
      scheduler: s,
      denoise: async (x, i) => modelOutputToX0Eps(s, i, x, model(x, i)),
      initial,
      noise: stepNoise(5),
    });
    let x: Float32Array = Float32Array.from(initial);
    for (let i = 0; i < 13; i++) {
      x = s.step(i, x, model(x, i), new Rng(5, 1000 + i).fillNormal(new Float32Array(256))).prevSample;
    }
    assert.deepEqual(out, x);
  });
});

describe('ddpm - errors', () => {

  test('precise errors naming the field', () => {
    failsOnField(() => new DdpmScheduler({ eta: 1 } as never, 10), 'eta', /unknown DDPM config field 'eta'/);
    failsOnField(() => new DdpmScheduler({ varianceType: 'learned' } as never, 10), 'varianceType', /varianceType must be one of fixed_small, fixed_large, got 'learned'/);
    failsOnField(() => new DdpmScheduler({ predictionType: 'flow' } as never, 10), 'predictionType', /DDPM is a VP scheduler/);
    failsOnField(() => new DdpmScheduler({ clipSample: true } as never, 10), 'clipSample', /not supported/);
    failsOnField(() => new DdpmScheduler({}, 1001), 'numInferenceSteps', /cannot exceed trainSchedule\.numTrainTimesteps \(1000\)/);
    failsOnField(() => new DdpmScheduler({}, 0), 'numInferenceSteps', /integer >= 1, got 0/);
    // 1000 leading steps with offset 1 start at t = 1000 (diffusers indexes past alphas_cumprod, issue #10003)
    failsOnField(() => new DdpmScheduler({}, 1000), 'stepsOffset', /first timestep to 1000, past the last training timestep 999/);
    failsOnField(() => new DdpmScheduler({ trainSchedule: { ...TINY, betaEnd: 1 } }, 2), 'trainSchedule.betaEnd', /in \(0, 1\), got 1/);
    failsOnField(() => new DdpmScheduler({ trainSchedule: { ...TINY, betaMax: 1 } } as never, 2), 'trainSchedule.betaMax', /unknown trainSchedule field 'betaMax'/);
    failsOnField(() => new DdpmScheduler({ trainSchedule: 4 } as never, 2), 'trainSchedule', /trainSchedule must be an object, got 4/);
    failsOnField(() => new DdpmScheduler([1] as never, 2), 'config', /DDPM config must be an object, got \[1\]/);
    assert.equal(new DdpmScheduler({ stepsOffset: 0 }, 1000).timesteps[0], 999);
  });
});
