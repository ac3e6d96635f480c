import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DdimScheduler, sampleSequential, stepNoise, type Scheduler } from '../../coordinator/sampling/mod.ts';
import { picardErrorScales, samplePicard } from '../../coordinator/sampling/picard.ts';
import { PICARD_POLICIES, createPicardPolicy } from '../../coordinator/sampling/picard-policy.ts';
import { createScheduler } from '../../coordinator/sampling/registry.ts';
import { Rng } from '../../common/rng.ts';
import { relL2 } from '../../common/rel-l2.ts';
import { mixtureDenoiser } from '../helpers/posterior-denoisers.ts';

const SCHEDULERS: [string, () => Scheduler][] = [
  ['ddim eta 0', () => new DdimScheduler({}, 30)],
  ['ddim eta 1', () => new DdimScheduler({ eta: 1 }, 30)],
  ['ddim trailing set_alpha_to_one', () => new DdimScheduler({ timestepSpacing: 'trailing', setAlphaToOne: true }, 25)],
  ['ddpm (stochastic)', () => createScheduler('ddpm', {}, 30)],
  ['ddpm fixed_large', () => createScheduler('ddpm', { varianceType: 'fixed_large', timestepSpacing: 'trailing' }, 20)],
  ['euler', () => createScheduler('euler', {}, 30)],
  ['euler karras', () => createScheduler('euler', { useKarrasSigmas: true }, 25)],
  ['flow_euler', () => createScheduler('flow_euler', { shift: 3 }, 30)],
];

for (const [name, make] of SCHEDULERS) {
  test(`picard - p = 1 reproduces sequential sampling bit for bit (${name})`, async () => {
    const scheduler = make();
    const initial = new Rng(5).fillNormal(new Float32Array(512));
    const seq = await sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(9) });
    assert.ok(seq.every(Number.isFinite));
    for (const policy of PICARD_POLICIES) {
      const r = await samplePicard({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(9), window: 1, policy: createPicardPolicy(policy, 0.1) });
      assert.equal(r.rounds, scheduler.numSteps);
      assert.deepEqual(r.sample, seq, `${policy} differs from sequential`);
    }
  });

  test(`picard - p = steps with tolerance -> 0 converges to sequential within 1e-5 (${name})`, async () => {
    const scheduler = make();
    const initial = new Rng(6).fillNormal(new Float32Array(512));
    const seq = await sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(3) });
    // adaptive is excluded by design: its threshold follows the window's errors
    // (DreamPropeller), so a tiny tolerance does not make it exact.
    for (const policy of PICARD_POLICIES.filter((p) => p !== 'adaptive')) {
      const r = await samplePicard({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(3), window: scheduler.numSteps, policy: createPicardPolicy(policy, 1e-9) });
      assert.ok(relL2(r.sample, seq) < 1e-5, `${policy}: relative L2 ${relL2(r.sample, seq)}`);
    }
  });
}

test('picard - a window chosen per round: always 1 is sequential bit for bit; a changing one keeps every round advancing and stays within tolerance', async () => {
  for (const [name, make] of SCHEDULERS) {
    const scheduler = make();
    const initial = new Rng(11).fillNormal(new Float32Array(256));
    const seq = await sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(4) });
    const ones = await samplePicard({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(4), window: 16, windowFor: () => 1, policy: createPicardPolicy('forecast', 0.1) });
    assert.deepEqual(ones.sample, seq, `${name}: window 1 every round differs from sequential`);
    assert.equal(ones.evaluations, scheduler.numSteps);
    // Out-of-range answers are clamped to [1, window]: 0, 99, NaN.
    const answers = [8, 0, 99, 2, Number.NaN, 5, 1];
    const windows: number[] = [];
    const speculative: boolean[] = [];
    const denoise = mixtureDenoiser(scheduler);
    const r = await samplePicard({
      scheduler,
      denoise: (x, i, sig, hints) => {
        speculative.push(hints?.speculative === true);
        return denoise(x, i, sig);
      },
      initial,
      noise: stepNoise(4),
      window: 8,
      windowFor: ({ round }) => answers[round % answers.length]!,
      policy: createPicardPolicy('forecast', 1e-6),
      onRound: (x) => {
        windows.push(x.window);
        assert.ok(x.stride >= 1 && x.end - x.begin === x.window);
      },
    });
    assert.ok(windows.every((w) => w >= 1 && w <= 8), `${name}: windows ${windows.join(',')}`);
    assert.ok(windows.includes(1) && windows.some((w) => w > 2), `${name}: windows ${windows.join(',')}`);
    assert.ok(relL2(r.sample, seq) < 1e-4, `${name}: relL2 ${relL2(r.sample, seq)}`);
    // One necessary point per round, the rest speculative.
    assert.equal(speculative.filter((s) => !s).length, r.rounds);
  }
});

test('picard - a loose tolerance takes fewer rounds than steps, and every round advances', async () => {
  const scheduler = new DdimScheduler({}, 50);
  const initial = new Rng(7).fillNormal(new Float32Array(512));
  const seq = await sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial, noise: stepNoise(1) });
  for (const policy of PICARD_POLICIES) {
    const strides: number[] = [];
    const r = await samplePicard({
      scheduler,
      denoise: mixtureDenoiser(scheduler),
      initial,
      noise: stepNoise(1),
      window: 10,
      policy: createPicardPolicy(policy, 0.1),
      onRound: (round) => strides.push(round.stride),
    });
    assert.ok(r.rounds < 50, `${policy}: ${r.rounds} rounds`);
    assert.ok(strides.every((s) => s >= 1 && s <= 10));
    assert.equal(strides.reduce((a, b) => a + b, 0), 50);
    assert.ok(relL2(r.sample, seq) < 0.05, `${policy}: ${relL2(r.sample, seq)}`);
  }
});

test('picard - error scales are the DDPM posterior variance for DDIM, 0 at the end', () => {
  const s = new DdimScheduler({}, 10);
  const scales = picardErrorScales(s);
  for (let j = 0; j < 10; j++) {
    const c = s.stepCoefficients(j);
    assert.ok(Math.abs(scales[j]! - c.variance) <= 1e-12 * Math.max(1, c.variance), `step ${j}: ${scales[j]} vs ${c.variance}`);
  }
  assert.equal(scales[10], 0);
});

test('picard - bad options are rejected', async () => {
  const scheduler = new DdimScheduler({}, 5);
  await assert.rejects(
    samplePicard({ scheduler, denoise: mixtureDenoiser(scheduler), initial: new Float32Array(4), noise: stepNoise(1), window: 0, policy: createPicardPolicy('paradigms', 0.1) }),
    /window must be an integer >= 1/,
  );
  assert.throws(() => createPicardPolicy('paradigms', -1), /tolerance/);
  assert.throws(() => createPicardPolicy('nope' as never, 0.1), /unknown Picard policy "nope"; known: paradigms, adaptive, forecast/);
});
