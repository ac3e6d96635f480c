import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { floatsToHalves, halvesToFloats } from '../../common/tensor-codec.ts';
import { Rng } from '../../common/rng.ts';
import { STANDIN_MODEL_NAMES, buildReferenceModel, referenceModelFingerprint } from '../../models/registry.ts';
import { checkGraphContract } from '../../worker/graph-contract.ts';

/** Random feeds for every graph input (timestep `t`), float16 where the graph says so. */
function feeds(session: ort.InferenceSession, t: number, seed: number): Record<string, ort.Tensor> {
  const rng = new Rng(seed);
  const out: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    assert.ok(meta.isTensor);
    const shape = meta.shape.map((d) => (typeof d === 'number' ? d : 2));
    const n = shape.reduce((a, b) => a * b, 1);
    if (meta.type === 'int64') {
      // Token ids: start, a few tokens, end, padding.
      out[meta.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 37 + seed) % 500)), shape);
      continue;
    }
    const f = meta.name === 'timestep' ? new Float32Array(n).fill(t) : rng.fillNormal(new Float32Array(n));
    if (meta.type === 'float16') {
      const h = new Uint16Array(n);
      floatsToHalves(f, h);
      out[meta.name] = new ort.Tensor('float16', h, shape);
    } else out[meta.name] = new ort.Tensor('float32', f, shape);
  }
  return out;
}

for (const name of STANDIN_MODEL_NAMES) {
  test(`models tiny - ${name}: deterministic build, graph fits its manifest, finite outputs (O(1) at high and low noise for denoisers)`, async () => {
    const { bytes, manifest } = buildReferenceModel(name);
    assert.deepEqual(Buffer.from(buildReferenceModel(name).bytes), Buffer.from(bytes));
    assert.match(referenceModelFingerprint(name), /^[0-9a-f]{64}$/);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      assert.equal(checkGraphContract(manifest, session), undefined);
      if (manifest.kind === 'text_encoder') {
        const res = await session.run(feeds(session, 0, 3));
        const h = res[manifest.output]!;
        assert.deepEqual(h.dims, [2, manifest.maxLength, manifest.hiddenSize]);
        assert.ok((h.data as Float32Array).every(Number.isFinite));
        return;
      }
      assert.equal(manifest.kind, 'denoiser');
      if (manifest.kind !== 'denoiser') return;
      for (const t of [manifest.process === 'flow' ? 1000 : 999, 1]) {
        const res = await session.run(feeds(session, t, t));
        const tensor = res[manifest.output]!;
        let data = tensor.data as Float32Array;
        if (tensor.type === 'float16') {
          data = new Float32Array(tensor.size);
          halvesToFloats(tensor.data as Uint16Array, data);
        }
        let sq = 0;
        for (const v of data) {
          assert.ok(Number.isFinite(v));
          sq += v * v;
        }
        const rms = Math.sqrt(sq / data.length);
        assert.ok(rms > 1e-3 && rms < 3, `${name} at t=${t}: rms ${rms}`);
      }
    } finally {
      await session.release();
    }
  });
}
