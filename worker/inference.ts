import * as ort from 'onnxruntime-node';
import type { DenoiserManifest, VaeManifest } from '../common/manifest.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { SerialQueue } from './serial-queue.ts';
import type { LoadedModel } from './model-registry.ts';

/** One denoiser evaluation, validated and decoded to float32. */
export interface DenoiseInput {
  sample: Float32Array;
  timestep: number;
  /** Class weights [K] (reference models); undefined means uniform. */
  classWeights?: Float32Array;
}

/**
 * Runs a loaded model: batches same-shape items into one `session.run`,
 * never more than the manifest's max batch, one run at a time per session.
 */
export class ModelRunner {
  private readonly queue = new SerialQueue();

  constructor(
    readonly model: LoadedModel,
    private readonly maxBatch: number,
  ) {}

  get inFlight(): number {
    return this.queue.depth;
  }

  /**
   * Evaluates denoiser items; returns one output per item and the seconds
   * spent in ORT. Items whose samples lie back to back in one buffer (as the
   * DenoiserService decodes them) go to ORT without a copy, and each output is
   * a view into its run's output tensor, not a copy: at a few hundred KiB per
   * window, copies and the garbage collections they cause were a large part
   * of a call's cost next to the reference model's compute.
   */
  async denoise(items: readonly DenoiseInput[]): Promise<{ outputs: Float32Array[]; seconds: number }> {
    const m = this.model.manifest as DenoiserManifest;
    const per = m.latentChannels * m.nativeFrames * m.nativeHeight * m.nativeWidth;
    const k = m.classes.length;
    const limit = this.batchLimit(m.maxBatch);
    const outputs: Float32Array[] = [];
    let seconds = 0;
    for (let start = 0; start < items.length; start += limit) {
      const chunk = items.slice(start, start + limit);
      const b = chunk.length;
      const packed = packedSamples(chunk, per);
      const sample = packed ?? new Float32Array(b * per);
      const timestep = new Float32Array(b);
      const feeds: Record<string, ort.Tensor> = {};
      chunk.forEach((it, i) => {
        if (!packed) sample.set(it.sample, i * per);
        timestep[i] = it.timestep;
      });
      feeds[m.inputs.sample] = new ort.Tensor('float32', sample, [b, m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth]);
      feeds[m.inputs.timestep] = new ort.Tensor('float32', timestep, [b]);
      if (m.inputs.classWeights) {
        const cw = new Float32Array(b * k);
        chunk.forEach((it, i) => cw.set(it.classWeights ?? new Float32Array(k).fill(1 / k), i * k));
        feeds[m.inputs.classWeights] = new ort.Tensor('float32', cw, [b, k]);
      }
      const { out, secs } = await this.run(feeds, m.output);
      seconds += secs;
      for (let i = 0; i < b; i++) outputs.push(out.subarray(i * per, (i + 1) * per));
    }
    return { outputs, seconds };
  }

  /**
   * Runs a VAE model on [N, C, h, w] frames in batches; returns the output
   * as one array [N, C', h', w'] with its shape.
   */
  async vae(input: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[]; seconds: number }> {
    const m = this.model.manifest as VaeManifest;
    const [n, c, h, w] = shape as [number, number, number, number];
    const perIn = c * h * w;
    const limit = this.batchLimit(m.maxBatch);
    const parts: Float32Array[] = [];
    let outShape: number[] = [];
    let seconds = 0;
    for (let start = 0; start < n; start += limit) {
      const b = Math.min(limit, n - start);
      const feeds = { [m.input]: new ort.Tensor('float32', input.subarray(start * perIn, (start + b) * perIn), [b, c, h, w]) };
      const { out, secs, dims } = await this.run(feeds, m.output);
      seconds += secs;
      parts.push(out);
      outShape = [n, ...dims.slice(1)];
    }
    const total = parts.reduce((a, p) => a + p.length, 0);
    const data = new Float32Array(total);
    let off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    return { data, shape: outShape, seconds };
  }

  private batchLimit(manifestMax: number): number {
    return Math.max(1, Math.min(manifestMax, this.maxBatch));
  }

  private run(feeds: Record<string, ort.Tensor>, output: string): Promise<{ out: Float32Array; secs: number; dims: readonly number[] }> {
    const session = this.model.session;
    if (!session) throw new InvalidArgumentError('model', `"${this.model.name}" is unavailable: ${this.model.reason}`);
    return this.queue.run(async () => {
      const t0 = performance.now();
      const result = await session.run(feeds, [output]);
      const tensor = result[output]!;
      const secs = (performance.now() - t0) / 1000;
      return { out: tensor.data as Float32Array, secs, dims: tensor.dims };
    });
  }
}

/**
 * The items' samples as one `[b * per]` view when they lie back to back in
 * one buffer (in order, `per` elements each); undefined otherwise.
 */
export function packedSamples(items: readonly DenoiseInput[], per: number): Float32Array | undefined {
  const first = items[0]?.sample;
  if (!first) return undefined;
  for (let i = 0; i < items.length; i++) {
    const s = items[i]!.sample;
    if (s.buffer !== first.buffer || s.length !== per || s.byteOffset !== first.byteOffset + i * per * 4) return undefined;
  }
  return new Float32Array(first.buffer, first.byteOffset, items.length * per);
}
