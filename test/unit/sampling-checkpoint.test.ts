import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DdimScheduler, sampleSequential, stepNoise, type Scheduler } from '../../coordinator/sampling/mod.ts';
import { samplePicard } from '../../coordinator/sampling/picard.ts';
import { PICARD_POLICIES, createPicardPolicy, type PicardPolicyName } from '../../coordinator/sampling/picard-policy.ts';
import { createScheduler } from '../../coordinator/sampling/registry.ts';
import { CheckpointError, checkpointStep, decodeSamplerCheckpoint, encodeSamplerCheckpoint } from '../../coordinator/sampling/checkpoint.ts';
import { Rng } from '../../common/rng.ts';
import { mixtureDenoiser } from '../helpers/posterior-denoisers.ts';

const SCHEDULERS: [string, () => Scheduler][] = [
  ['ddim', () => new DdimScheduler({}, 24)],
  ['ddpm (stochastic)', () => createScheduler('ddpm', {}, 24)],
  ['flow_euler', () => createScheduler('flow_euler', { shift: 3 }, 24)],
];

const SEED = 7;

function initialNoise(n: number): Float32Array {
  return new Rng(SEED, 3).fillNormal(new Float32Array(n));
}

type PicardArgs = Parameters<typeof samplePicard>[0];

/**
 * A Picard run of the mixture posterior over `n` elements from the fixed
 * initial noise, window 6 unless `base` says otherwise, with a fresh policy
 * each call (policies keep state); each call's `extra` overrides `base`.
 */
function picardRunner(scheduler: Scheduler, n: number, policy: PicardPolicyName, base: Partial<PicardArgs> = {}) {
  return (extra: Partial<PicardArgs> = {}) =>
    samplePicard({
      scheduler,
      denoise: mixtureDenoiser(scheduler),
      initial: initialNoise(n),
      noise: stepNoise(SEED),
      window: 6,
      policy: createPicardPolicy(policy, 0.05),
      ...base,
      ...extra,
    });
}

function assertBitEqual(a: Float32Array, b: Float32Array): void {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`element ${i} differs: ${a[i]} vs ${b[i]}`);
}

/** Aborts the run right after the checkpoint it wants, as a killed coordinator would stop. */
class Kill extends Error {}

/** Runs `run` until the checkpoint after round `r`, stops it there (as a kill would), and returns that checkpoint. */
async function checkpointAfterRound(run: (extra: Partial<PicardArgs>) => Promise<unknown>, r: number, fingerprint: string) {
  let saved: Uint8Array | undefined;
  const ctl = new AbortController();
  await assert.rejects(
    run({
      signal: ctl.signal,
      onCheckpoint: (state) => {
        if (state.rounds !== r) return;
        saved = encodeSamplerCheckpoint({ engine: 'picard', fingerprint, state, extra: {} });
        ctl.abort(new Kill());
      },
    }),
    Kill,
  );
  const cp = decodeSamplerCheckpoint(saved!, fingerprint);
  assert.equal(cp.engine, 'picard');
  return cp;
}


for (const [name, make] of SCHEDULERS) {
  test(`checkpoint - sequential ${name}: stop after step k, resume from the bytes == uninterrupted, bit for bit`, async () => {
    const scheduler = make();
    const n = 257;
    const full = await sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial: initialNoise(n), noise: stepNoise(SEED) });
    for (const k of [1, 9, scheduler.numSteps]) {
      let saved: Uint8Array | undefined;
      const ctl = new AbortController();
      await assert.rejects(
        sampleSequential({
          scheduler,
          denoise: mixtureDenoiser(scheduler),
          initial: initialNoise(n),
          noise: stepNoise(SEED),
          signal: ctl.signal,
          onCheckpoint: (state) => {
            if (state.step !== k) return;
            saved = encodeSamplerCheckpoint({ engine: 'sequential', fingerprint: 'run-a', state, extra: { evaluations: k } });
            ctl.abort(new Kill());
          },
        }).then(() => {
          // The last step has nothing left to abort: the run ends normally.
          if (k === scheduler.numSteps) throw new Kill();
        }),
        Kill,
      );
      const cp = decodeSamplerCheckpoint(saved!, 'run-a');
      assert.equal(cp.engine, 'sequential');
      assert.equal(checkpointStep(cp), k);
      assert.deepEqual(cp.extra, { evaluations: k });
      let evaluated = 0;
      const denoise = mixtureDenoiser(scheduler);
      const resumed = await sampleSequential({
        scheduler,
        denoise: (x, i, s) => {
          evaluated++;
          return denoise(x, i, s);
        },
        // The initial noise is ignored on resume (a fresh buffer of zeros proves it).
        initial: new Float32Array(n),
        consumeInitial: true,
        noise: stepNoise(SEED),
        resume: cp.engine === 'sequential' ? cp.state : undefined,
      });
      assert.equal(evaluated, scheduler.numSteps - k, 'a resumed run evaluates only the remaining steps');
      assertBitEqual(resumed, full);
    }
  });

  for (const policyName of PICARD_POLICIES) {
    test(`checkpoint - picard ${name} ${policyName}: stop after round r, resume from the bytes == uninterrupted, bit for bit`, async () => {
      const scheduler = make();
      const n = 129;
      const run = picardRunner(scheduler, n, policyName as PicardPolicyName);
      const full = await run();
      assert.ok(full.rounds >= 3, `needs a few rounds, got ${full.rounds}`);
      for (const r of [1, Math.floor(full.rounds / 2)]) {
        const cp = await checkpointAfterRound(run, r, 'run-b');
        assert.ok(checkpointStep(cp) > 0 && checkpointStep(cp) < scheduler.numSteps);
        const resumed = await run({ initial: new Float32Array(n), resume: cp.engine === 'picard' ? cp.state : undefined });
        assert.equal(resumed.rounds, full.rounds);
        assert.equal(resumed.evaluations, full.evaluations);
        assertBitEqual(resumed.sample, full.sample);
      }
    });
  }
}

for (const [name, make] of SCHEDULERS) {
  test(`checkpoint - picard ${name} with a window that changes every round: stop after round r, resume == uninterrupted, bit for bit`, async () => {
    const scheduler = make();
    const n = 129;
    const windows = [3, 6, 1, 5, 2, 6, 4];
    const asked: number[] = [];
    const run = picardRunner(scheduler, n, 'forecast', {
      // As the elastic sampler: the window depends on the round (the load), not on the run's history.
      windowFor: ({ round }) => {
        asked.push(round);
        return windows[round % windows.length]!;
      },
    });
    const seen: number[] = [];
    const full = await run({ onRound: (r) => seen.push(r.window) });
    assert.ok(full.rounds >= 4, `needs a few rounds, got ${full.rounds}`);
    assert.ok(new Set(seen).size >= 3, `windows used: ${seen.join(',')}`);
    for (const r of [1, 2, Math.floor(full.rounds / 2)]) {
      const cp = await checkpointAfterRound(run, r, 'run-w');
      const after: number[] = [];
      const resumed = await run({ initial: new Float32Array(n), resume: cp.engine === 'picard' ? cp.state : undefined, onRound: (x) => after.push(x.window) });
      assert.deepEqual(after, seen.slice(r), 'the resumed run goes on with the windows the interrupted one had chosen');
      assert.equal(resumed.rounds, full.rounds);
      assert.equal(resumed.evaluations, full.evaluations);
      assertBitEqual(resumed.sample, full.sample);
    }
    assert.ok(asked.length > 0);
  });
}

test('checkpoint - bytes of another run, a bad magic, truncation and a mismatched window are rejected', async () => {
  const scheduler = new DdimScheduler({}, 10);
  const state = { step: 3, sample: new Float32Array([1, 2, 3]) };
  const bytes = encodeSamplerCheckpoint({ engine: 'sequential', fingerprint: 'job-1', state, extra: {} });
  assert.throws(() => decodeSamplerCheckpoint(bytes, 'job-2'), CheckpointError);
  assert.throws(() => decodeSamplerCheckpoint(Buffer.from('nope, not this')), /bad magic/);
  assert.throws(() => decodeSamplerCheckpoint(bytes.subarray(0, bytes.length - 4)), /bytes, expected/);
  await assert.rejects(
    sampleSequential({ scheduler, denoise: mixtureDenoiser(scheduler), initial: new Float32Array(4), noise: stepNoise(1), resume: state }),
    /cannot resume at step 3/,
  );
  await assert.rejects(
    samplePicard({
      scheduler,
      denoise: mixtureDenoiser(scheduler),
      initial: new Float32Array(3),
      noise: stepNoise(1),
      window: 4,
      policy: createPicardPolicy('paradigms', 0.1),
      resume: { begin: 2, end: 5, points: [state.sample], rounds: 1, evaluations: 4, policy: [] },
    }),
    /cannot resume Picard window/,
  );
  assert.throws(() => createPicardPolicy('adaptive', 0.1).importState([]), /adaptive policy state/);
});
