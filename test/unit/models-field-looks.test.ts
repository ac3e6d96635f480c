import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIELD_COMPONENTS } from '../../models/field-mixture/components.ts';
import { autocorrelationLength, centredLuminance, frameMotion } from '../../bench/looks-metrics.ts';
import { measureComponents } from '../../bench/looks.ts';

/** A video of one pattern g(y, x) drifting by (vy, vx) px per frame, in grey: [F, 3, H, W]. */
function drifting(F: number, H: number, W: number, vy: number, vx: number, g: (y: number, x: number) => number) {
  const data = new Float32Array(F * 3 * H * W);
  for (let f = 0; f < F; f++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = g(y - vy * f, x - vx * f);
        for (let c = 0; c < 3; c++) data[((f * 3 + c) * H + y) * W + x] = v;
      }
    }
  }
  return { data, frames: F, height: H, width: W };
}

describe('field-mixture - looks at 256 x 256', () => {
  it('the metrics recover a known blob size and drift', () => {
    // Gaussian blobs of autocorrelation exp(-r^2 / (4 s^2)) along each axis: 1/e at 2 s.
    const [sy, sx] = [6, 3];
    const blob = (y: number, x: number): number => 0.5 + 0.4 * Math.exp(-(((y - 32) / sy) ** 2 + ((x - 32) / sx) ** 2) / 2);
    const v = drifting(4, 64, 64, 1.5, -2, blob);
    const y = centredLuminance(v);
    const motion = frameMotion(y, 4, 64, 64, 5);
    assert.ok(Math.abs(motion.dy - 1.5) < 0.05 && Math.abs(motion.dx + 2) < 0.05, `motion ${motion.dy}, ${motion.dx}`);
    // 2 s on an infinite plane; removing each frame's mean shortens it a little.
    const [lx, ly] = [autocorrelationLength(y, 4, 64, 64, 'x', 32), autocorrelationLength(y, 4, 64, 64, 'y', 32)];
    assert.ok(Math.abs(lx - 2 * sx) < 0.1 * 2 * sx && Math.abs(ly - 2 * sy) < 0.1 * 2 * sy, `lengths x ${lx}, y ${ly}`);
  });

  it('decoded prior samples meet the acceptance: large clouds and lava, wide swell, tall flames, visible drift', { timeout: 120_000 }, async (t) => {
    const { rows, failures } = await measureComponents(1, 1);
    for (const r of rows) t.diagnostic(`${r.component}: x ${r.lengthX} px, y ${r.lengthY} px, motion (${r.motionY}, ${r.motionX}) px/frame, ${r.along} along the drift (${r.drift})`);
    assert.deepEqual(rows.map((r) => r.component), FIELD_COMPONENTS.map((c) => c.name));
    assert.deepEqual(failures, []);
  });
});
