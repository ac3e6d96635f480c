import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import type { DenoiserManifest } from '../common/manifest.ts';
import type { WindowWork } from '../coordinator/layout/mod.ts';

/**
 * Evaluates layout windows with ONNX Runtime in this process, in batches —
 * the cluster without the network, for benches that count rounds and
 * measure quality rather than time.
 */
export async function onnxWindowEvaluator(modelDir: string, manifest: DenoiserManifest, threads = 2, batch = 16) {
  const session = await ort.InferenceSession.create(join(modelDir, manifest.name, manifest.file), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const per = manifest.latentChannels * manifest.nativeFrames * manifest.nativeHeight * manifest.nativeWidth;
  const k = manifest.classes.length;
  let queue: Promise<unknown> = Promise.resolve();
  const evaluate = (items: WindowWork[]): Promise<Float32Array[]> => {
    // Serialise runs: concurrent Picard slots would otherwise fight for the same threads.
    const result = queue.then(async () => {
      const outs: Float32Array[] = [];
      for (let s = 0; s < items.length; s += batch) {
        const chunk = items.slice(s, s + batch);
        const b = chunk.length;
        const sample = new Float32Array(b * per);
        const t = new Float32Array(b);
        const cw = new Float32Array(b * k);
        chunk.forEach((it, i) => {
          sample.set(it.sample, i * per);
          t[i] = it.timestep;
          const weights = manifest.inputs.classWeights ? it.conditioning?.cond[manifest.inputs.classWeights]?.data : undefined;
          if (weights) cw.set(weights, i * k);
        });
        const feeds: Record<string, ort.Tensor> = {
          [manifest.inputs.sample]: new ort.Tensor('float32', sample, [b, manifest.latentChannels, manifest.nativeFrames, manifest.nativeHeight, manifest.nativeWidth]),
          [manifest.inputs.timestep]: new ort.Tensor('float32', t, [b]),
        };
        if (manifest.inputs.classWeights) feeds[manifest.inputs.classWeights] = new ort.Tensor('float32', cw, [b, k]);
        const out = (await session.run(feeds))[manifest.output]!.data as Float32Array;
        for (let i = 0; i < b; i++) outs.push(out.slice(i * per, (i + 1) * per));
      }
      return outs;
    });
    queue = result.catch(() => undefined);
    return result;
  };
  return { evaluate, release: () => session.release() };
}
