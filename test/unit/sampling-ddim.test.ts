/**
 * DDIM golden values. Every expected number is computed here by hand
 * (arithmetic written out with its numbers, decimals checked independently in
 * 40-digit decimal arithmetic) — never by calling the code under test's helpers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';
import { OUT, TINY, X, close, failsOnField } from '../helpers/scheduler-golden.ts';

function range(start: number, step: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i * step);
}

describe('ddim - alphas_cumprod of scaled_linear 0.00085..0.012', () => {
  // beta_i = (sqrt(0.00085) + (sqrt(0.012) - sqrt(0.00085)) * i / 999)^2
  const sqrtStart = Math.sqrt(0.00085); // 0.0291547594742265
  const sqrtEnd = Math.sqrt(0.012); // 0.1095445115010332
  const beta = (i: number): number => (sqrtStart + ((sqrtEnd - sqrtStart) * i) / 999) ** 2;

  test('abar at t = 0, 1 and 999', () => {
    const s = new DdimScheduler({ timestepSpacing: 'leading', stepsOffset: 0 }, 1000);
    assert.equal(s.timesteps[999], 0);
    assert.equal(s.timesteps[998], 1);
    // abar_0 = 1 - beta_0 = 1 - 0.00085
    assert.ok(Math.abs(s.stepCoefficients(999).alphaProdT - 0.99915) < 1e-15);
    // abar_1 = 0.99915 * (1 - beta_1), beta_1 = (0.0291547594742265 + 0.0803897520268067 / 999)^2 = 0.000854698655405686
    assert.ok(Math.abs(beta(1) - 0.000854698655405686) < 1e-17);
    assert.ok(Math.abs(s.stepCoefficients(998).alphaProdT - 0.99915 * (1 - 0.000854698655405686)) < 1e-15);
    assert.ok(Math.abs(s.stepCoefficients(998).alphaProdT - 0.998296027838451) < 1e-14);
    // abar_999 = prod_{i=0..999} (1 - beta_i) = 0.00466009851307724 (40-digit decimal product)
    let prod = 1;
    for (let i = 0; i < 1000; i++) prod *= 1 - beta(i);
    assert.ok(Math.abs(prod - 0.00466009851307724) < 1e-15);
    assert.equal(s.timesteps[0], 999);
    assert.ok(Math.abs(s.stepCoefficients(0).alphaProdT - 0.00466009851307724) < 1e-15);
  });
});

describe('ddim - timesteps match diffusers', () => {
  const ts = (timestepSpacing: 'leading' | 'trailing' | 'linspace', n: number, stepsOffset = 0): number[] => [
    ...new DdimScheduler({ timestepSpacing, stepsOffset }, n).timesteps,
  ];

  test('leading: arange(n) * (1000 // n), reversed, + steps_offset', () => {
    assert.deepEqual(ts('leading', 10, 1), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    assert.deepEqual(ts('leading', 10, 0), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    assert.deepEqual(ts('leading', 50, 1), range(981, -20, 50)); // 981, 961, ..., 1
    // 1000 // 7 = 142: 6*142 = 852
    assert.deepEqual(ts('leading', 7, 1), [853, 711, 569, 427, 285, 143, 1]);
  });

  test('trailing: round(arange(1000, 0, -1000/n)) - 1', () => {
    assert.deepEqual(ts('trailing', 10), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    assert.deepEqual(ts('trailing', 50), range(999, -20, 50)); // 999, 979, ..., 19
    // step 62.5: halves round to even (937.5 -> 938, 812.5 -> 812, 62.5 -> 62), then - 1
    assert.deepEqual(
      ts('trailing', 16),
      [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61],
    );
    // numpy's arange accumulates (1000 - 20.8333) - 1000 = -20.83333333333337, so its 4th value is
    // 937.4999999999999 -> 937 -> 936 (exact 937.5 would give 938 -> 937)
    assert.deepEqual(ts('trailing', 48).slice(0, 5), [999, 978, 957, 936, 916]);
    // numpy yields 62 values for n = 61 (the last is -1); exactly 61 are kept
    const t61 = ts('trailing', 61);
    assert.equal(t61.length, 61);
    assert.equal(t61[0], 999);
    assert.equal(t61[60], 15); // round(1000 - 60 * 16.3934...) - 1 = round(16.39) - 1
  });

  test('linspace: round(linspace(0, 999, n)), reversed (steps_offset ignored)', () => {
    assert.deepEqual(ts('linspace', 10, 1), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    // 999/6 = 166.5: 166.5 -> 166, 499.5 -> 500, 832.5 -> 832 (half to even)
    assert.deepEqual(ts('linspace', 7), [999, 832, 666, 500, 333, 166, 0]);
    assert.deepEqual(ts('linspace', 50), [
      999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775, 754, 734, 714, 693, 673, 652, 632, 612, 591, 571,
      550, 530, 510, 489, 469, 449, 428, 408, 387, 367, 347, 326, 306, 285, 265, 245, 224, 204, 183, 163, 143, 122,
      102, 82, 61, 41, 20, 0,
    ]);
  });

  test('previous timesteps: t - 1000 // n for leading/trailing, next listed timestep for linspace', () => {
    const leading = new DdimScheduler({ timestepSpacing: 'leading', stepsOffset: 1 }, 10);
    assert.equal(leading.stepCoefficients(0).prevTimestep, 801);
    assert.equal(leading.stepCoefficients(9).prevTimestep, 1 - 100);
    const linspace = new DdimScheduler({ timestepSpacing: 'linspace' }, 10);
    assert.equal(linspace.stepCoefficients(0).prevTimestep, 888); // diffusers would use 999 - 100 = 899
    assert.equal(linspace.stepCoefficients(9).prevTimestep, -1);
    // trailing 7 steps, as diffusers: last t = 142, 142 - 1000 // 7 = 0, so it lands on abar_0, not on 1
    const trailing = new DdimScheduler({ timestepSpacing: 'trailing', setAlphaToOne: true }, 7);
    assert.equal(trailing.timesteps[6], 142);
    assert.equal(trailing.stepCoefficients(6).prevTimestep, 0);
    assert.ok(Math.abs(trailing.stepCoefficients(6).alphaProdTPrev - 0.99915) < 1e-15);
  });
});

describe('ddim - one step on a 4-element vector (abar_t = 0.504 -> abar_prev = 0.9)', () => {
  // numTrain 4, 2 leading steps: ratio 2, timesteps [2, 0]; step 0 goes from t = 2 to t = 0.
  const make = (predictionType: 'epsilon' | 'sample' | 'v_prediction', eta = 0): DdimScheduler =>
    new DdimScheduler({ trainSchedule: TINY, timestepSpacing: 'leading', stepsOffset: 0, eta, predictionType }, 2);

  test('schedule and noise level', () => {
    const s = make('epsilon');
    assert.deepEqual([...s.timesteps], [2, 0]);
    const c = s.stepCoefficients(0);
    assert.ok(Math.abs(c.alphaProdT - 0.9 * 0.8 * 0.7) < 1e-15); // 0.504
    assert.ok(Math.abs(c.alphaProdTPrev - 0.9) < 1e-15);
    assert.ok(Math.abs(s.noiseLevel(0).alpha - Math.sqrt(0.504)) < 1e-15);
    assert.ok(Math.abs(s.noiseLevel(0).sigma - Math.sqrt(0.496)) < 1e-15);
    assert.equal(s.noiseCoefficient(0), 0);
  });

  test('epsilon: x0 = (x - sqrt(0.496) e) / sqrt(0.504); x_prev = sqrt(0.9) x0 + sqrt(0.1) e', () => {
    const { prevSample, predOriginalSample } = make('epsilon').step(0, X, OUT);
    const x0 = (x: number, e: number): number => (x - Math.sqrt(0.496) * e) / Math.sqrt(0.504);
    close(predOriginalSample, [x0(1, 0.5), x0(-0.5, 1), x0(0.25, -1), x0(2, 0)], 1e-6, 'x0');
    close(predOriginalSample, [0.9125745517856311, -1.696326957797557, 1.3441793516606753, 2.8171808490950556]);
    const prev = (x: number, e: number): number => Math.sqrt(0.9) * x0(x, e) + Math.sqrt(0.1) * e;
    close(prevSample, [prev(1, 0.5), prev(-0.5, 1), prev(0.25, -1), prev(2, 0)], 1e-6, 'prev');
    close(prevSample, [1.0238581185133808, -1.293049286878543, 0.9589727344880128, 2.672612419124244]);
  });

  test('sample: x0 = out; e = (x - sqrt(0.504) x0) / sqrt(0.496)', () => {
    const { prevSample, predOriginalSample } = make('sample').step(0, X, OUT);
    close(predOriginalSample, [0.5, 1, -1, 0]);
    const prev = (x: number, x0: number): number =>
      Math.sqrt(0.9) * x0 + Math.sqrt(0.1) * ((x - Math.sqrt(0.504) * x0) / Math.sqrt(0.496));
    close(prevSample, [prev(1, 0.5), prev(-0.5, 1), prev(0.25, -1), prev(2, 0)], 1e-6, 'prev');
    close(prevSample, [0.7639710096534786, 0.4054088816396142, -0.5176621954063484, 0.8980265101338746]);
  });

  test('v_prediction: x0 = sqrt(0.504) x - sqrt(0.496) v; e = sqrt(0.496) x + sqrt(0.504) v', () => {
    const { prevSample, predOriginalSample } = make('v_prediction').step(0, X, OUT);
    close(predOriginalSample, [0.3577932367387737, -1.0592374614523372, 0.8817550679593488, 1.4198591479439078]);
    const prev = (x: number, v: number): number =>
      Math.sqrt(0.9) * (Math.sqrt(0.504) * x - Math.sqrt(0.496) * v) +
      Math.sqrt(0.1) * (Math.sqrt(0.496) * x + Math.sqrt(0.504) * v);
    close(prevSample, [prev(1, 0.5), prev(-0.5, 1), prev(0.25, -1), prev(2, 0)], 1e-6, 'prev');
    close(prevSample, [0.6743927639659272, -0.8917367323994212, 0.6676845063662936, 1.7924178082650206]);
  });

  test('eta > 0: sigma_t = eta sqrt((0.1 / 0.496) (1 - 0.504 / 0.9)) and the direction shrinks', () => {
    // variance = (1 - 0.9) / (1 - 0.504) * (1 - 0.504 / 0.9) = 0.2016129 * 0.44 = 0.0887096774193548
    const variance = (0.1 / 0.496) * (1 - 0.504 / 0.9);
    assert.ok(Math.abs(variance - 0.0887096774193548) < 1e-15);
    const one = make('epsilon', 1);
    assert.ok(Math.abs(one.stepCoefficients(0).variance - variance) < 1e-15);
    assert.ok(Math.abs(one.noiseCoefficient(0) - 0.2978416985906353) < 1e-15);
    // direction coefficient sqrt(1 - 0.9 - 0.0887096774) = sqrt(0.0112903226) = 0.10625592962581029
    assert.ok(Math.abs(one.stepCoefficients(0).epsCoeff - 0.10625592962581029) < 1e-15);

    const half = make('epsilon', 0.5);
    const sigma = 0.5 * Math.sqrt(variance); // 0.14892084929531765
    assert.ok(Math.abs(half.noiseCoefficient(0) - 0.14892084929531765) < 1e-15);
    const z = new Float32Array([1, -1, 0.5, 2]);
    const { prevSample } = half.step(0, X, OUT, z);
    const x0 = (x: number, e: number): number => (x - Math.sqrt(0.496) * e) / Math.sqrt(0.504);
    const prev = (x: number, e: number, zz: number): number =>
      Math.sqrt(0.9) * x0(x, e) + Math.sqrt(0.1 - sigma * sigma) * e + sigma * zz;
    close(prevSample, [prev(1, 0.5, 1), prev(-0.5, 1, -1), prev(0.25, -1, 0.5), prev(2, 0, 2)], 1e-6, 'prev');
    close(prevSample, [1.1541485790255472, -1.479230913740163, 1.0706939367019739, 2.9704541177148793]);
    // the deterministic part alone omits sigma z
    const det = half.stepDeterministic(0, X, new Float32Array([x0(1, 0.5), 0, 0, 0]), new Float32Array([0.5, 0, 0, 0]));
    assert.ok(Math.abs(det[0]! - (prev(1, 0.5, 1) - sigma)) < 1e-6);
    assert.throws(() => half.step(0, X, OUT), /stochastic/);
  });

  test('last step: setAlphaToOne false lands on abar_0 = 0.9, true on 1', () => {
    // step 1: t = 0, prev = 0 - 2 < 0 -> final_alpha_cumprod
    const off = new DdimScheduler({ trainSchedule: TINY, stepsOffset: 0, setAlphaToOne: false, eta: 1 }, 2);
    const on = new DdimScheduler({ trainSchedule: TINY, stepsOffset: 0, setAlphaToOne: true, eta: 1 }, 2);
    assert.ok(Math.abs(off.stepCoefficients(1).alphaProdTPrev - 0.9) < 1e-15);
    assert.equal(on.stepCoefficients(1).alphaProdTPrev, 1);
    // variance: off (0.1/0.1)(1 - 0.9/0.9) = 0; on (0/0.1)(1 - 0.9) = 0
    assert.equal(off.noiseCoefficient(1), 0);
    assert.equal(on.noiseCoefficient(1), 0);
    // off: sqrt(0.9) (x - sqrt(0.1) e)/sqrt(0.9) + sqrt(0.1) e = x
    close(off.step(1, X, OUT).prevSample, [1, -0.5, 0.25, 2], 1e-6, 'off');
    // on: x_prev = x0 = (x - sqrt(0.1) e) / sqrt(0.9)
    const x0 = (x: number, e: number): number => (x - Math.sqrt(0.1) * e) / Math.sqrt(0.9);
    close(on.step(1, X, OUT).prevSample, [x0(1, 0.5), x0(-0.5, 1), x0(0.25, -1), x0(2, 0)], 1e-6, 'on');
    close(on.step(1, X, OUT).prevSample, [0.8874258867227931, -0.8603796100280633, 0.5968564716806983, 2.1081851067789197]);
  });
});

describe('ddim - contract', () => {
  test('eta = 0 with exact (x0, eps) lands on alpha_prev x0 + sigma_prev eps for every spacing', () => {
    for (const timestepSpacing of ['leading', 'trailing', 'linspace'] as const) {
      const s = new DdimScheduler({ timestepSpacing, setAlphaToOne: true }, 25);
      const x0 = new Float32Array([0.3, -1.2, 0.8, 0]);
      const eps = new Float32Array([1.1, 0.4, -0.7, 2]);
      for (let i = 0; i < s.numSteps; i++) {
        const { alpha, sigma } = s.noiseLevel(i);
        const x = x0.map((v, k) => alpha * v + sigma * eps[k]!);
        const next = s.stepDeterministic(i, x, x0, eps);
        const ap = s.stepCoefficients(i).alphaProdTPrev;
        const expected = [...x0].map((v, k) => Math.sqrt(ap) * v + Math.sqrt(1 - ap) * eps[k]!);
        close(next, expected, 1e-6, `${timestepSpacing} step ${i}`);
        if (i + 1 < s.numSteps) {
          // 1000 / 25 = 40 exactly, so every spacing lands on the next step's timestep
          assert.equal(s.stepCoefficients(i).prevTimestep, s.timesteps[i + 1]);
        }
      }
    }
  });

  test('config round-trips through JSON', () => {
    const s = new DdimScheduler(
      { eta: 0.3, timestepSpacing: 'trailing', setAlphaToOne: true, predictionType: 'v_prediction', clipSample: false },
      12,
    );
    const copy = new DdimScheduler(JSON.parse(JSON.stringify(s.config)), 12);
    assert.deepEqual(copy.config, s.config);
    assert.deepEqual(copy.timesteps, s.timesteps);
    for (let i = 0; i < 12; i++) assert.deepEqual(copy.stepCoefficients(i), s.stepCoefficients(i));
    assert.equal(s.kind, 'ddim');
    assert.equal(s.initNoiseSigma, 1);
    assert.equal(s.predictionType, 'v_prediction');
  });

  test('precise errors on broken preconditions', () => {
    failsOnField(() => new DdimScheduler({}, 1001), 'numInferenceSteps', /numInferenceSteps \(1001\) cannot exceed trainSchedule\.numTrainTimesteps \(1000\)/);
    failsOnField(() => new DdimScheduler({}, 0), 'numInferenceSteps', /integer >= 1, got 0/);
    failsOnField(() => new DdimScheduler({}, 2.5), 'numInferenceSteps', /got 2\.5/);
    failsOnField(() => new DdimScheduler({ eta: -0.5 }, 10), 'eta', /eta must be a finite number >= 0, got -0\.5/);
    failsOnField(() => new DdimScheduler({ eta: 3 }, 10), 'eta', /eta 3 is too large/);
    failsOnField(() => new DdimScheduler({ predictionType: 'flow' } as never, 10), 'predictionType', /DDIM is a VP scheduler/);
    failsOnField(() => new DdimScheduler({ timestepSpacing: 'karras' } as never, 10), 'timestepSpacing', /one of leading, trailing, linspace, got 'karras'/);
    failsOnField(() => new DdimScheduler({ steps_offset: 1 } as never, 10), 'steps_offset', /unknown DDIM config field 'steps_offset'/);
    failsOnField(() => new DdimScheduler({ stepsOffset: 1 }, 1000), 'stepsOffset', /first timestep to 1000, past the last training timestep 999/);
    failsOnField(() => new DdimScheduler({ clipSample: true } as never, 10), 'clipSample', /not supported/);
    failsOnField(
      () => new DdimScheduler({ trainSchedule: { ...TINY, numTrainTimesteps: 0 } }, 1),
      'trainSchedule.numTrainTimesteps',
      /integer >= 1, got 0/,
    );
    const s = new DdimScheduler({}, 10);
    assert.throws(() => s.noiseLevel(11), /step index 11 is outside \[0, 11\)/);
    assert.throws(() => s.modelInputScale(10), /step index 10 is outside \[0, 10\)/);
    // the level the last step lands on: abar_0 unless set_alpha_to_one
    assert.equal(s.noiseLevel(10).alpha, Math.sqrt(s.stepCoefficients(9).alphaProdTPrev));
    assert.equal(new DdimScheduler({ setAlphaToOne: true }, 10).noiseLevel(10).sigma, 0);
    assert.throws(() => s.stepDeterministic(0, X, new Float32Array(3), OUT), RangeError);
  });
});
