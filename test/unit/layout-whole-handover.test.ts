/**
 * The composite denoiser over one window covering the latent writes x0 over
 * the model output when, and only when, that output was handed over to it
 * (common/float-buffers.ts: the dispatcher's decoded worker outputs); the
 * numbers are the same either way, and an output it does not own (a fake
 * model's buffer, the sample itself) is never written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handOver } from '../../common/float-buffers.ts';
import { Rng } from '../../common/rng.ts';
import { CompositeDenoiser, type EvaluateWindows } from '../../coordinator/layout/composite-denoiser.ts';
import type { LatentDims } from '../../coordinator/layout/types.ts';
import { DdimScheduler } from '../../coordinator/sampling/ddim.ts';
import { EulerScheduler } from '../../coordinator/sampling/euler.ts';
import type { PredictionType } from '../../coordinator/sampling/prediction.ts';
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';

const DIMS: LatentDims = { channels: 2, frames: 4, height: 16, width: 16 };
const N = DIMS.channels * DIMS.frames * DIMS.height * DIMS.width;
const WHOLE = [{ index: 0, f0: 0, y0: 0, x0: 0, frames: DIMS.frames, height: DIMS.height, width: DIMS.width }];

function denoiser(scheduler: Scheduler, predictionType: PredictionType, evaluate: EvaluateWindows): CompositeDenoiser {
  return new CompositeDenoiser({ dims: DIMS, windows: WHOLE, blend: 'cosine', predictionType, scheduler, evaluate });
}

test('whole-window denoise: x0 over a handed-over output, the same numbers as into a fresh array', async () => {
  const sample = new Rng(3).fillNormal(new Float32Array(N));
  sample[0] = 0;
  sample[1] = -0;
  const raw = new Rng(4).fillNormal(new Float32Array(N));
  raw[0] = -0; // x0 = -0 + 0 in the merge: +0 either way
  for (const [scheduler, type] of [[new DdimScheduler({}, 20), 'epsilon'], [new DdimScheduler({ predictionType: 'v_prediction' }, 20), 'v_prediction'], [new EulerScheduler({}, 20), 'epsilon']] as const) {
    for (const step of [0, 7, 19]) {
      const plain = raw.slice();
      const kept = await denoiser(scheduler, type, async () => [plain]).denoise(sample, step);
      assert.deepEqual(plain, raw, 'an output not handed over is left as it was');
      assert.notEqual(kept.x0, plain);
      const owned = handOver(raw.slice());
      const reused = await denoiser(scheduler, type, async () => [owned]).denoise(sample, step);
      assert.equal(reused.x0, owned, 'x0 is written over the handed-over output');
      assert.deepEqual(reused.x0, kept.x0);
      assert.deepEqual(reused.eps, kept.eps);
      assert.ok(Object.is(reused.x0[0], kept.x0[0]));
    }
  }
});

test('whole-window denoise: the sample itself, handed over or not, is never written', async () => {
  const scheduler = new DdimScheduler({ predictionType: 'sample' }, 10);
  const sample = new Rng(5).fillNormal(new Float32Array(N));
  const copy = sample.slice();
  handOver(sample); // even marked, the model input is not the denoiser's to overwrite
  const out = await denoiser(scheduler, 'sample', async (items) => items.map((it) => it.sample)).denoise(sample, 3);
  assert.deepEqual(sample, copy);
  assert.notEqual(out.x0, sample);
  assert.deepEqual(out.x0, copy);
});

test('whole-window denoise: arrays given back (recycle) carry the next output and eps, with the same numbers; foreign and repeated ones are ignored', async () => {
  const scheduler = new DdimScheduler({}, 20);
  const sample = new Rng(6).fillNormal(new Float32Array(N));
  const raw = new Rng(7).fillNormal(new Float32Array(N));
  // The evaluator fills the item's output array when it has one, as the dispatcher does.
  const evaluate: EvaluateWindows = async (items) => items.map((it) => (it.output ? (it.output.set(raw), it.output) : raw.slice()));
  const fresh = await denoiser(scheduler, 'epsilon', evaluate).denoise(sample, 5);
  const d = denoiser(scheduler, 'epsilon', evaluate);
  const first = await d.denoise(sample, 5);
  const a = first.x0;
  const b = first.eps;
  d.recycle([a, b, a, new Float32Array(N + 1)]); // a twice, and one of the wrong size
  const second = await d.denoise(sample, 5);
  assert.ok((second.x0 === a || second.x0 === b) && (second.eps === a || second.eps === b) && second.x0 !== second.eps, 'the given-back arrays are reused, each once');
  assert.deepEqual(second.x0, fresh.x0);
  assert.deepEqual(second.eps, fresh.eps);
  const third = await d.denoise(sample, 5);
  assert.ok(third.x0 !== a && third.x0 !== b && third.eps !== a && third.eps !== b, 'no array is handed out twice');
  assert.deepEqual(third.eps, fresh.eps);
});
