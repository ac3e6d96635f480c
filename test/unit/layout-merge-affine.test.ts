import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../common/rng.ts';
import { Merger } from '../../coordinator/layout/merge.ts';
import { planWindows } from '../../coordinator/layout/planner.ts';
import { PREDICTION_TYPES, toX0, x0Coefficients } from '../../coordinator/sampling/prediction.ts';

// The composite denoiser converts each window's output to x0 inside the
// merge; the merged latent must be the one of converting first, bit for bit.
test('merge - fused x0 conversion equals toX0 then accumulate, bit for bit, for every prediction type', () => {
  const dims = { channels: 4, frames: 40, height: 48, width: 48 };
  const windows = planWindows(dims, { frames: 16, height: 32, width: 32 }, { frames: 8, height: 16, width: 16 });
  const rng = new Rng(11);
  const outputs = windows.map(() => rng.fillNormal(new Float32Array(4 * 16 * 32 * 32)));
  const samples = windows.map(() => rng.fillNormal(new Float32Array(4 * 16 * 32 * 32)));
  for (const type of PREDICTION_TYPES) {
    for (const level of [{ alpha: 0.6123, sigma: 0.7906 }, { alpha: 0.999, sigma: 0.0447 }, { alpha: 0.05, sigma: 0.9987 }]) {
      const separate = new Merger(dims, windows, 'gaussian');
      const fused = new Merger(dims, windows, 'gaussian');
      windows.forEach((w, i) => {
        separate.accumulate(w, toX0(type, outputs[i]!, samples[i]!, level));
        fused.accumulateAffine(w, outputs[i]!, samples[i]!, x0Coefficients(type, level));
      });
      const a = separate.result();
      const b = fused.result();
      let differing = 0;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differing++;
      assert.equal(differing, 0, `${type} at alpha ${level.alpha}: ${differing} elements differ`);
    }
  }
});
