import * as ort from 'onnxruntime-node';
import { conditioningShape, type ConditioningInput, type DenoiserManifest, type TextEncoderManifest, type VaeManifest } from '../common/manifest.ts';
import type { DenoiseInput } from './denoise-input.ts';
import { halvesToFloats } from '../common/tensor-codec.ts';
import { denoiserIo } from './graph-contract.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { SerialQueue } from './serial-queue.ts';
import type { LoadedModel } from './model-registry.ts';
import { assembleSample, floatTensor, framesFirstToChannelsFirst, isPlain, packedSamples, rampWeights, tileStarts, timestepTensor } from './input-layout.ts';

export { packedSamples, tileStarts } from './input-layout.ts';

/**
 * Runs a loaded model: batches same-shape items into one `session.run`,
 * never more than the manifest's max batch, one run at a time per session.
 * Feeds what the manifest describes: the sample in its layout (channels or
 * frames first) with image latents concatenated on channels, the timestep
 * in the graph's type, conditioning inputs stacked over the batch, float16
 * inputs and outputs for float16 models, and cond + uncond as one batch of
 * 2B for one-batch guidance.
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
    if (!isPlain(m)) return this.denoiseGeneral(m, items);
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
      const classInput = m.inputs.classWeights;
      if (classInput) {
        const cw = new Float32Array(b * k);
        chunk.forEach((it, i) => cw.set(it.cond.get(classInput) ?? new Float32Array(k).fill(1 / k), i * k));
        feeds[classInput] = new ort.Tensor('float32', cw, [b, k]);
      }
      const { out, secs } = await this.run(feeds, m.output);
      seconds += secs;
      for (let i = 0; i < b; i++) outputs.push(out.subarray(i * per, (i + 1) * per));
    }
    return { outputs, seconds };
  }

  /** The general path: layouts, conditioning inputs, float16, one-batch guidance (see the class comment). */
  private async denoiseGeneral(m: DenoiserManifest, items: readonly DenoiseInput[]): Promise<{ outputs: Float32Array[]; seconds: number }> {
    const { latentChannels: C, nativeFrames: F, nativeHeight: H, nativeWidth: W } = m;
    const per = C * F * H * W;
    const io = denoiserIo(m, this.model.session);
    const frameFirst = m.sampleLayout === 'BFCHW';
    const half = m.dtype === 'float16';
    const conds = m.conditioning ?? [];
    const guided = items.some((it) => it.guidance);
    // Guided chunks run 2b rows: keep them within the batch limit.
    const limit = Math.max(1, guided ? Math.floor(this.batchLimit(m.maxBatch) / 2) : this.batchLimit(m.maxBatch));
    const outputs: Float32Array[] = [];
    let seconds = 0;
    for (let start = 0; start < items.length; start += limit) {
      const chunk = items.slice(start, start + limit);
      const b = chunk.length;
      // Rows: every item's cond, then (guided) every item's uncond.
      const rows = guided ? 2 * b : b;
      const valueOf = (r: number, key: string, source: ConditioningInput['source'] | 'class_weights'): Float32Array | undefined => {
        const it = chunk[r % b]!;
        if (r < b) return it.cond.get(key);
        const u = it.guidance?.uncond.get(key);
        if (u) return u;
        return source === 'time_ids' ? it.cond.get(key) : undefined; // undefined = zeros
      };
      const feeds: Record<string, ort.Tensor> = {};
      const sample = assembleSample(chunk, rows, { C, F, H, W, channels: io.sampleChannels, frameFirst }, conds, valueOf);
      feeds[m.inputs.sample] = floatTensor(sample, frameFirst ? [rows, F, io.sampleChannels, H, W] : [rows, io.sampleChannels, F, H, W], half);
      feeds[m.inputs.timestep] = timestepTensor(Array.from({ length: rows }, (_, r) => chunk[r % b]!.timestep), io.timestepType);
      const classInput = m.inputs.classWeights;
      if (classInput) {
        const k = m.classes.length;
        const cw = new Float32Array(rows * k);
        for (let r = 0; r < rows; r++) cw.set(valueOf(r, classInput, 'class_weights') ?? new Float32Array(k).fill(1 / k), r * k);
        feeds[classInput] = new ort.Tensor('float32', cw, [rows, k]);
      }
      for (const c of conds) {
        if (c.source === 'image_latent') continue;
        const shape = conditioningShape(c);
        const size = shape.reduce((p, d) => p * d, 1);
        const data = new Float32Array(rows * size);
        for (let r = 0; r < rows; r++) {
          const v = valueOf(r, c.input, c.source);
          if (v) data.set(v, r * size);
        }
        feeds[c.input] = floatTensor(data, [rows, ...shape], half);
      }
      const { out, secs } = await this.run(feeds, m.output);
      seconds += secs;
      const result = frameFirst ? framesFirstToChannelsFirst(out, { C, F, H, W }) : out;
      for (let i = 0; i < b; i++) {
        const cond = result.subarray(i * per, (i + 1) * per);
        const scale = chunk[i]!.guidance?.scale;
        if (!guided || scale === undefined) {
          outputs.push(cond);
          continue;
        }
        const uncond = result.subarray((b + i) * per, (b + i + 1) * per);
        const mixed = new Float32Array(per);
        for (let j = 0; j < per; j++) mixed[j] = uncond[j]! + scale * (cond[j]! - uncond[j]!);
        outputs.push(mixed);
      }
    }
    return { outputs, seconds };
  }

  /**
   * Runs a VAE model on [N, C, h, w] frames in batches; returns the output
   * as one array [N, C', h', w'] with its shape. `inputScale` multiplies the
   * input first and `outputScale` the output (the denoiser's VAE scaling
   * factor: decoders get latent / factor, encoders give latent * factor).
   */
  async vae(input: Float32Array, shape: readonly number[], opts: { inputScale?: number; outputScale?: number } = {}): Promise<{ data: Float32Array; shape: number[]; seconds: number }> {
    const m = this.model.manifest as VaeManifest;
    const [n, c, h, w] = shape as [number, number, number, number];
    if (opts.inputScale !== undefined && opts.inputScale !== 1) input = input.map((v) => v * opts.inputScale!);
    if (m.tile) {
      const unit = m.kind === 'decoder' ? 1 : m.spatialScale; // input pixels per latent pixel
      if (h > m.tile.size * unit || w > m.tile.size * unit) return this.vaeTiled(m, input, shape, m.tile.size * unit, m.tile.overlap * unit, opts.outputScale);
    }
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
    if (opts.outputScale !== undefined && opts.outputScale !== 1) for (let i = 0; i < data.length; i++) data[i]! *= opts.outputScale;
    return { data, shape: outShape, seconds };
  }

  /**
   * Tiled VAE run: overlapping `size` x `size` input tiles (stride
   * size - overlap, the last one snapped to the edge), each run whole, and
   * blended in the output with linear ramps across the overlaps (weights
   * full at the frame's borders).
   */
  private async vaeTiled(m: VaeManifest, input: Float32Array, shape: readonly number[], size: number, overlap: number, outputScale = 1): Promise<{ data: Float32Array; shape: number[]; seconds: number }> {
    const [n, c, h, w] = shape as [number, number, number, number];
    const ys = tileStarts(h, size, overlap);
    const xs = tileStarts(w, size, overlap);
    let out: Float64Array | undefined;
    let weight: Float64Array | undefined;
    let outShape: number[] = [];
    let seconds = 0;
    let ratio = 0;
    for (const y0 of ys) {
      for (const x0 of xs) {
        const th = Math.min(size, h);
        const tw = Math.min(size, w);
        const tile = new Float32Array(n * c * th * tw);
        for (let i = 0; i < n * c; i++) {
          for (let y = 0; y < th; y++) tile.set(input.subarray((i * h + y0 + y) * w + x0, (i * h + y0 + y) * w + x0 + tw), (i * th + y) * tw);
        }
        const res = await this.vae(tile, [n, c, th, tw]);
        seconds += res.seconds;
        const [, co, oh, ow] = res.shape as [number, number, number, number];
        ratio = oh / th;
        if (!out) {
          outShape = [n, co, Math.round(h * ratio), Math.round(w * ratio)];
          out = new Float64Array(n * co * outShape[2]! * outShape[3]!);
          weight = new Float64Array(outShape[2]! * outShape[3]!);
        }
        const [OH, OW] = [outShape[2]!, outShape[3]!];
        const oy0 = Math.round(y0 * ratio);
        const ox0 = Math.round(x0 * ratio);
        const ramp = overlap * ratio;
        const wy = rampWeights(oh, ramp, oy0 === 0, oy0 + oh >= OH);
        const wx = rampWeights(ow, ramp, ox0 === 0, ox0 + ow >= OW);
        for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) weight![(oy0 + y) * OW + ox0 + x]! += wy[y]! * wx[x]!;
        for (let i = 0; i < n * co; i++) {
          for (let y = 0; y < oh; y++) {
            for (let x = 0; x < ow; x++) out[(i * OH + oy0 + y) * OW + ox0 + x]! += wy[y]! * wx[x]! * res.data[(i * oh + y) * ow + x]!;
          }
        }
      }
    }
    const plane = weight!.length;
    const data = new Float32Array(out!.length);
    for (let i = 0; i < data.length; i++) data[i] = (out![i]! / weight![i % plane]!) * outputScale;
    return { data, shape: outShape, seconds };
  }

  /** Runs a text encoder on token id sequences; one [maxLength * hiddenSize] array per sequence. */
  async textEncode(ids: readonly number[][]): Promise<Float32Array[]> {
    const m = this.model.manifest as TextEncoderManifest;
    const limit = this.batchLimit(m.maxBatch);
    const out: Float32Array[] = [];
    const size = m.maxLength * m.hiddenSize;
    for (let start = 0; start < ids.length; start += limit) {
      const chunk = ids.slice(start, start + limit);
      const data = BigInt64Array.from(chunk.flat().map((v) => BigInt(v)));
      const { out: res } = await this.run({ [m.input]: new ort.Tensor('int64', data, [chunk.length, m.maxLength]) }, m.output);
      for (let i = 0; i < chunk.length; i++) out.push(res.slice(i * size, (i + 1) * size));
    }
    return out;
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
      let out: Float32Array;
      if (tensor.type === 'float16') {
        out = new Float32Array(tensor.size);
        halvesToFloats(tensor.data as Uint16Array, out);
      } else out = tensor.data as Float32Array;
      return { out, secs, dims: tensor.dims };
    });
  }
}
