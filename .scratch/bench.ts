import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import * as build from '../models/field-mixture/build.ts';

const variants: [string, () => Uint8Array][] = [['vp', () => build.buildFieldMixtureModel()]];
if (process.argv[2] === 'flow') variants.push(['flow', () => (build.buildFieldMixtureModel as (s: unknown) => Uint8Array)({ process: 'flow' })]);
for (const [name, fn] of variants) {
  let bytes = fn();
  const tb = [];
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); bytes = fn(); tb.push(performance.now() - t0); }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  for (const B of [1, 8]) {
    const sample = new Float32Array(B * 65536).map(() => Math.random() * 2 - 1);
    const ts = new Float32Array(B).fill(name === 'vp' ? 333.25 : 300);
    const w = new Float32Array(B * 6).fill(1);
    const feeds = { sample: new ort.Tensor('float32', sample, [B, 4, 16, 32, 32]), timestep: new ort.Tensor('float32', ts, [B]), class_weights: new ort.Tensor('float32', w, [B, 6]) };
    for (let i = 0; i < 20; i++) await session.run(feeds);
    const times = [];
    for (let r = 0; r < 5; r++) { const n = 200 / B; const t0 = performance.now(); for (let i = 0; i < n; i++) await session.run(feeds); times.push((performance.now() - t0) / n / B); }
    times.sort((a, b) => a - b);
    console.log(`${name} build ${tb.map((x) => x.toFixed(0)).join('/')} ms; B=${B}: per item median ${times[2]!.toFixed(3)} ms (min ${times[0]!.toFixed(3)})`);
  }
  await session.release();
}
