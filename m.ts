import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { ensureReferenceModels } from './models/registry.ts';
import { FieldMixtureReference } from './models/field-mixture/reference.ts';
import { DdimScheduler, sampleSequential, stepNoise, toX0Eps } from './coordinator/sampling/mod.ts';
import { samplePicard } from './coordinator/sampling/picard.ts';
import { createPicardPolicy } from './coordinator/sampling/picard-policy.ts';
import { Rng } from './common/rng.ts';
const dir = await ensureReferenceModels();
const session = await ort.InferenceSession.create(join(dir, 'field-mixture/model.onnx'), { intraOpNumThreads: 2 });
const N = 65536;
const cw = new Float32Array(6); cw[0] = 1;
const mk = (sched: DdimScheduler) => async (xs: Float32Array, i: number) => {
  const out = await session.run({ sample: new ort.Tensor('float32', xs, [1,4,16,32,32]), timestep: new ort.Tensor('float32', new Float32Array([sched.timesteps[i]!]), [1]), class_weights: new ort.Tensor('float32', cw, [1,6]) });
  return toX0Eps('epsilon', out.epsilon!.data as Float32Array, xs, sched.noiseLevel(i));
};
const rel = (a: Float32Array, b: Float32Array) => { let e = 0, n = 0; for (let i = 0; i < a.length; i++) { e += (a[i]! - b[i]!) ** 2; n += b[i]! ** 2; } return Math.sqrt(e / n); };
for (const [steps, p] of [[100, 20], [200, 20], [200, 40]] as const) {
  const sched = new DdimScheduler({}, steps);
  const init = new Rng(3).fillNormal(new Float32Array(N));
  const seq = await sampleSequential({ scheduler: sched, denoise: mk(sched), initial: init, noise: stepNoise(1) });
  for (const pol of ['paradigms', 'adaptive', 'forecast'] as const) {
    const r = await samplePicard({ scheduler: sched, denoise: mk(sched), initial: init, noise: stepNoise(1), window: p, policy: createPicardPolicy(pol, 0.1) });
    console.log(`ddim-${steps} p=${p} ${pol}: rounds ${r.rounds} evals ${r.evaluations} relL2 ${rel(r.sample, seq).toExponential(2)}`);
  }
}
