import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateJobMemory, type JobSize } from '../../coordinator/jobs/memory-estimate.ts';
import { fieldMixtureManifest } from '../../models/field-mixture/build.ts';

/** The estimate's terms by the formula in memory-estimate.ts (measured against real processes in test/integration/memory-admission.test.ts). */
const m = fieldMixtureManifest();
const size = (over: Partial<JobSize>): JobSize => ({ frames: 64, height: 256, width: 256, steps: 20, sampler: { kind: 'sequential', window: 0 }, layout: { chunkOverlap: 8, tileOverlap: 16 }, ...over });

test('memory estimate - the masked modes add three latents per point (the corrected copy and an in-between prediction)', () => {
  for (const sampler of [{ kind: 'sequential', window: 0 }, { kind: 'picard', window: 6 }]) {
    const text = estimateJobMemory(size({ sampler }), m);
    for (const mode of ['image_to_video', 'extend', 'expand']) {
      const masked = estimateJobMemory(size({ sampler, mode }), m);
      assert.equal(masked.bytes - text.bytes, 3 * text.window * text.latentBytes, `${mode}, ${sampler.kind}`);
    }
    for (const mode of ['text_to_video', 'video_to_video', undefined]) {
      assert.equal(estimateJobMemory(size({ sampler, ...(mode ? { mode } : {}) }), m).bytes, text.bytes, `${mode ?? 'no mode'}, ${sampler.kind}`);
    }
  }
});
