/**
 * Euler (EulerDiscreteScheduler) golden values. Expected numbers are computed
 * here by hand (arithmetic written out, decimals checked in 40-digit decimal
 * arithmetic) — never by calling the code under test's helpers. diffusers
 * holds sigmas in float32, so its printed values agree with these to ~1e-7.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { karrasSigmas, sigmaToT } from '../../coordinator/sampling/euler-sigmas.ts';
import { EulerScheduler } from '../../coordinator/sampling/euler.ts';
import { OUT, TINY, X, close, failsOnField } from '../helpers/scheduler-golden.ts';

// TINY: abar 0.9, 0.72, 0.504, 0.3024 -> sigma = sqrt((1 - abar)/abar) = 1/3, sqrt(7/18), sqrt(62/63), sqrt(436/189).

/** Stable Diffusion sigmas from 40-digit decimal products of (1 - beta_i). */
const SIGMA_0 = 0.02916715815172007; // sqrt(0.00085 / 0.99915)
const SIGMA_1 = 0.04131441199678292;
const SIGMA_832 = 5.934701940550803;
const SIGMA_833 = 5.963130404673064;
const SIGMA_901 = 8.390684770218575;
const SIGMA_999 = 14.61464122933364;

describe('euler - timesteps and sigmas match diffusers', () => {
  test('leading 10 steps, offset 1 (SDXL config): integer timesteps, sigma(901) .. sigma(1), then 0', () => {
    const s = new EulerScheduler({}, 10);
    assert.deepEqual([...s.timesteps], [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    assert.equal(s.sigmas.length, 11);
    close([s.sigmas[0]!, s.sigmas[9]!, s.sigmas[10]!], [SIGMA_901, SIGMA_1, 0], 1e-13, 'sigmas');
    // leading: init_noise_sigma = sqrt(sigma_max^2 + 1) = sqrt(8.3906847702^2 + 1) = 8.45006455082906
    assert.ok(Math.abs(s.initNoiseSigma - 8.45006455082906) < 1e-12, `${s.initNoiseSigma}`);
  });

  test('linspace 7 steps: fractional timesteps (not rounded as DDIM), sigma interpolated linearly', () => {
    const s = new EulerScheduler({ timestepSpacing: 'linspace', stepsOffset: 0 }, 7);
    // np.linspace(0, 999, 7, dtype=float32)[::-1]: step 166.5
    assert.deepEqual([...s.timesteps], [999, 832.5, 666, 499.5, 333, 166.5, 0]);
    // np.interp at 832.5: (sigma(832) + sigma(833)) / 2 = (5.93470194055 + 5.96313040467) / 2 = 5.94891617261
    close([s.sigmas[1]!], [(SIGMA_832 + SIGMA_833) / 2], 1e-13, 'sigma(832.5)');
    close([s.sigmas[1]!], [5.948916172611933], 1e-13, 'sigma(832.5)');
    close([s.sigmas[0]!, s.sigmas[6]!, s.sigmas[7]!], [SIGMA_999, SIGMA_0, 0], 1e-13, 'ends');
    // linspace / trailing: init_noise_sigma = sigma_max itself
    assert.ok(Math.abs(s.initNoiseSigma - SIGMA_999) < 1e-12, `${s.initNoiseSigma}`);
  });

  test('trailing 10 steps: [999, 899, ..., 99]', () => {
    const s = new EulerScheduler({ timestepSpacing: 'trailing', stepsOffset: 0 }, 10);
    assert.deepEqual([...s.timesteps], [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    assert.ok(Math.abs(s.initNoiseSigma - SIGMA_999) < 1e-12);
  });

  test('the model sees x / sqrt(sigma^2 + 1); levels are {alpha: 1, sigma}', () => {
    const s = new EulerScheduler({ timestepSpacing: 'linspace' }, 7);
    assert.ok(Math.abs(s.modelInputScale(0) - 1 / Math.sqrt(SIGMA_999 ** 2 + 1)) < 1e-15);
    assert.deepEqual(s.noiseLevel(0), { alpha: 1, sigma: s.sigmas[0] });
    assert.deepEqual(s.noiseLevel(7), { alpha: 1, sigma: 0 });
    assert.equal(s.noiseCoefficient(3), 0);
  });
});

describe('euler - Karras sigmas', () => {
  test('n = 5, linspace: rho = 7 between sigma(0) and sigma(999)', () => {
    const s = new EulerScheduler({ timestepSpacing: 'linspace', stepsOffset: 0, useKarrasSigmas: true }, 5);
    // max^(1/7) = 14.6146412293^(1/7) = 1.4668925684034, min^(1/7) = 0.0291671581517^(1/7) = 0.6035304124762
    // sigma_k = (1.4668925684034 + k/4 (0.6035304124762 - 1.4668925684034))^7:
    //   k = 1: 1.2510520294216^7 = 4.7965348271240;  k = 2: 1.0352114904398^7 = 1.2741002089781
    //   k = 3: 0.8193709514580^7 = 0.2479499027108
    close(s.sigmas, [SIGMA_999, 4.796534827124033, 1.274100208978092, 0.2479499027107614, SIGMA_0, 0], 1e-12, 'sigmas');
    // _sigma_to_t: t = j + (log s - log sigma_j) / (log sigma_{j+1} - log sigma_j), sigma_j <= s < sigma_{j+1}
    // k = 1 falls in [785, 786], k = 2 in [427, 428], k = 3 in [58, 59]; the ends map to 999 and 0
    close(s.timesteps, [999, 785.9536318485372, 427.4887041000389, 58.89096639382672, 0], 1e-10, 'timesteps');
    assert.ok(Math.abs(s.initNoiseSigma - SIGMA_999) < 1e-12);
  });

  test('leading 5 steps, offset 1: the ends are sigma(801) and sigma(1), not the schedule ends', () => {
    const s = new EulerScheduler({ useKarrasSigmas: true }, 5);
    // leading ratio 200: spaced timesteps 801 .. 1, so Karras runs from sigma(801) to sigma(1)
    close([s.sigmas[0]!, s.sigmas[4]!], [5.134431117517538, SIGMA_1], 1e-12, 'ends');
    close([s.timesteps[0]!, s.timesteps[4]!], [801, 1], 1e-10, 'end timesteps');
    // leading: init_noise_sigma = sqrt(5.1344311175^2 + 1) = 5.2309065084871
    assert.ok(Math.abs(s.initNoiseSigma - 5.23090650848707) < 1e-12);
  });

  test('karrasSigmas and sigmaToT on round numbers', () => {
    // min 1, max 128 = 2^7: (2 + k/2 (1 - 2))^7 = 2^7, 1.5^7, 1^7
    close(karrasSigmas(1, 128, 3), [128, 17.0859375, 1], 1e-12, 'karras');
    assert.deepEqual(karrasSigmas(1, 128, 1), [128]);
    // log-sigmas [0, 1, 2, 3]: e^1.25 -> t = 1.25; below / above the range clip to 0 / 3
    const logs = [0, 1, 2, 3];
    assert.ok(Math.abs(sigmaToT(Math.exp(1.25), logs) - 1.25) < 1e-12);
    assert.equal(sigmaToT(0.5, logs), 0);
    assert.equal(sigmaToT(100, logs), 3);
    assert.equal(sigmaToT(Math.exp(3), logs), 3);
  });
});

describe('euler - one step on a 4-element vector (TINY, linspace 4 steps, step 1: sigma(2) -> sigma(1))', () => {
  // linspace(0, 3, 4) = [3, 2, 1, 0]: step 1 goes from sigma = sqrt(62/63) = 0.99203174552 to sqrt(7/18) = 0.62360956446
  const make = (predictionType: 'epsilon' | 'sample' | 'v_prediction'): EulerScheduler =>
    new EulerScheduler({ trainSchedule: TINY, timestepSpacing: 'linspace', stepsOffset: 0, predictionType }, 4);

  test('sigmas, scale and levels', () => {
    const s = make('epsilon');
    assert.deepEqual([...s.timesteps], [3, 2, 1, 0]);
    close(s.sigmas, [Math.sqrt(436 / 189), Math.sqrt(62 / 63), Math.sqrt(7 / 18), 1 / 3, 0], 1e-14, 'sigmas');
    // scale = 1 / sqrt(62/63 + 1) = sqrt(63/125) = sqrt(0.504): the model sees the VP sample sqrt(abar) x
    assert.ok(Math.abs(s.modelInputScale(1) - Math.sqrt(0.504)) < 1e-15);
  });

  test('epsilon: x0 = x - sigma e; x_next = x + (0.62360956446 - 0.99203174552) e = x - 0.36842218106 e', () => {
    const { prevSample, predOriginalSample } = make('epsilon').step(1, X, OUT);
    const sigma = Math.sqrt(62 / 63);
    close(predOriginalSample, [1 - sigma * 0.5, -0.5 - sigma, 0.25 + sigma, 2], 1e-6, 'x0');
    close(prevSample, [0.8157889094692651, -0.8684221810614697, 0.6184221810614697, 2], 1e-6, 'prev');
  });

  test('v_prediction: x0 = x/(sigma^2+1) - sigma/sqrt(sigma^2+1) v = 0.504 x - sqrt(0.496) v', () => {
    const { prevSample, predOriginalSample } = make('v_prediction').step(1, X, OUT);
    close(predOriginalSample, [0.1518636627668198, -0.9562726744663604, 0.8302726744663604, 1.008], 1e-6, 'x0');
    // x_next = x + dt (x - x0) / sigma, dt = -0.36842218106
    close(prevSample, [0.6850179032970876, -0.6694512042020279, 0.4655025031224076, 1.631589608636962], 1e-6, 'prev');
  });

  test('sample: x0 = out; x_next = x + dt (x - out) / sigma', () => {
    const { prevSample } = make('sample').step(1, X, OUT);
    close(prevSample, [0.8143092785468561, 0.0570721643594318, -0.2142268036328598, 1.257237114187424], 1e-6, 'prev');
  });

  test('finalSigmasType sigma_min ends at sigma(0) = 1/3 instead of 0', () => {
    const s = new EulerScheduler({ trainSchedule: TINY, timestepSpacing: 'linspace', finalSigmasType: 'sigma_min' }, 4);
    assert.ok(Math.abs(s.sigmas[4]! - 1 / 3) < 1e-15);
    assert.deepEqual(s.noiseLevel(4), { alpha: 1, sigma: s.sigmas[4] });
    // last step: x + (1/3 - 1/3) e = x
    close(s.stepDeterministic(3, X, OUT, OUT), [...X], 0, 'no-op last step');
  });
});

describe('euler - errors', () => {

  test('precise errors naming the field', () => {
    failsOnField(() => new EulerScheduler({ predictionType: 'flow' } as never, 10), 'predictionType', /Euler is a VP scheduler/);
    failsOnField(() => new EulerScheduler({ useExponentialSigmas: true } as never, 10), 'useExponentialSigmas', /unknown Euler config field/);
    failsOnField(() => new EulerScheduler({ useKarrasSigmas: 'yes' } as never, 10), 'useKarrasSigmas', /must be a boolean, got 'yes'/);
    failsOnField(() => new EulerScheduler({ finalSigmasType: 'sigma_max' } as never, 10), 'finalSigmasType', /one of zero, sigma_min/);
    failsOnField(() => new EulerScheduler({}, 1000), 'stepsOffset', /first timestep to 1000/);
    failsOnField(() => new EulerScheduler({ stepsOffset: -1 }, 10), 'stepsOffset', /integer >= 0, got -1/);
    failsOnField(() => new EulerScheduler({}, 1.5), 'numInferenceSteps', /got 1\.5/);
  });
});
