import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../common/proto/load.ts';
import { allFinite, decodeTensor, decodeTensorInto, decodeUint8Tensor, encodeTensor, encodeUint8Tensor } from '../common/tensor-codec.ts';
import { InvalidArgumentError, NotFoundError, UnavailableError, quoteBounded } from '../common/errors.ts';
import { toGrpcError } from '../common/grpc-status.ts';
import { guardHandlers, tolerantService } from '../common/grpc-requests.ts';
import type { Logger } from '../common/logger.ts';
import type { DenoiserManifest, ModelManifest, VaeManifest } from '../common/manifest.ts';
import type { ModelKind } from '../common/proto/generated/propeller/v1/ModelKind.ts';
import type { DenoiserServiceHandlers } from '../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { EvaluateRequest__Output } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { InfoResponse } from '../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { LoadedModel } from './model-registry.ts';
import { ModelRunner } from './inference.ts';
import type { DenoiseInput } from './denoise-input.ts';
import { parseItemConditioning } from './item-conditioning.ts';
import { checkEvaluateNames } from './request-names.ts';
import { MAX_MODEL_NAME_CHARS, checkLength } from '../common/request-limits.ts';
import { PromptCache, resolvePrompts } from './prompt-encoding.ts';
import type { WorkerLifecycle } from './lifecycle.ts';

/** Output dtypes by wire value; an unknown value (a newer client's, or garbage) has none. */
const OUTPUT_DTYPES: Partial<Record<string, 'float16' | 'float32'>> = {
  OUTPUT_DTYPE_UNSPECIFIED: 'float16',
  OUTPUT_DTYPE_FLOAT16: 'float16',
  OUTPUT_DTYPE_FLOAT32: 'float32',
};

/** Manifest kinds on the wire (ModelInfo.kind). */
const MODEL_KINDS: Record<ModelManifest['kind'], ModelKind> = {
  denoiser: 'MODEL_KIND_DENOISER',
  decoder: 'MODEL_KIND_DECODER',
  encoder: 'MODEL_KIND_ENCODER',
  text_encoder: 'MODEL_KIND_TEXT_ENCODER',
};

export interface DenoiserServiceOptions {
  workerId: string;
  device: string;
  version: string;
  models: Map<string, LoadedModel>;
  maxBatch: number;
  /** Most items one Evaluate may carry (several runs of maxBatch). */
  maxItemsPerCall: number;
  maxMessageBytes: number;
  lifecycle: WorkerLifecycle;
  log: Logger;
  /** Extra latency per call (simulated devices); resolves when the wait is over. */
  afterCompute?: (items: number, computeSeconds: number) => Promise<void>;
  /** Told after every call's model runs: the model run, the method, items and seconds in ONNX Runtime (metrics). */
  onCompute?: (model: string, method: 'evaluate' | 'decode' | 'encode', items: number, seconds: number) => void;
}

/** Counters the worker exposes (metrics come later; the CLI reads these). */
export interface WorkerCounters {
  evaluations: number;
  calls: number;
  failures: number;
  computeSeconds: number;
}

/**
 * gRPC DenoiserService: validates every request at the edge, runs models
 * through one long-lived session each, and answers with typed errors.
 */
export class DenoiserService {
  readonly counters: WorkerCounters = { evaluations: 0, calls: 0, failures: 0, computeSeconds: 0 };
  private readonly runners = new Map<string, ModelRunner>();
  /** Encoded prompts per text encoder (prompt-encoding.ts). */
  private readonly promptCaches = new Map<string, PromptCache>();
  private inFlightCalls = 0;

  constructor(private readonly opts: DenoiserServiceOptions) {
    for (const [name, model] of opts.models) {
      if (model.available) this.runners.set(name, new ModelRunner(model, opts.maxBatch));
    }
  }

  /** Calls being answered now. */
  get inFlight(): number {
    return this.inFlightCalls;
  }

  addToServer(server: grpc.Server): void {
    const service = loadProtos().denoiser.propeller.v1.DenoiserService.service;
    const handlers: DenoiserServiceHandlers = {
      Info: (_call, cb) => {
        // A draining worker answers UNAVAILABLE, so registries stop picking it.
        if (this.opts.lifecycle.state !== 'serving') cb(toGrpcError(new UnavailableError(`worker is ${this.opts.lifecycle.state}`)));
        else cb(null, this.info());
      },
      Evaluate: (call, cb) => {
        // Early response headers tell the coordinator the whole request is
        // here, so it can put the next batch on the wire while this one runs.
        if (this.opts.lifecycle.state === 'serving') call.sendMetadata(new grpc.Metadata());
        this.handle(cb, () => this.evaluate(call.request));
      },
      Decode: (call, cb) =>
        this.handle(cb, async () => {
          const runner = this.vaeRunner(call.request.model, 'decoder');
          const latents = decodeTensor(call.request.latents, 'latents');
          checkFrames(latents.shape, 'latents');
          const vae = runner.model.manifest as VaeManifest;
          if (latents.shape[1] !== vae.latentChannels) throw new InvalidArgumentError('latents.shape', `must be [N, ${vae.latentChannels}, h, w] (the decoder's latent channels), got ${latents.shape.join('x')}`);
          // The RGB answer must fit one message: refuse before computing it.
          const outBytes = latents.shape[0]! * 3 * latents.shape[2]! * vae.spatialScale * latents.shape[3]! * vae.spatialScale;
          if (outBytes > this.opts.maxMessageBytes) throw new InvalidArgumentError('latents.shape', `decodes to ${outBytes} bytes of frames, more than the message limit ${this.opts.maxMessageBytes}; send fewer frames per call`);
          if (!allFinite(latents.data)) throw new InvalidArgumentError('latents.data', 'contains NaN or Inf');
          const out = await runner.vae(latents.data, latents.shape, { inputScale: 1 / this.scalingFactor(call.request.model) });
          this.opts.onCompute?.(runner.model.name, 'decode', latents.shape[0]!, out.seconds);
          const bytes = new Uint8Array(out.data.length);
          for (let i = 0; i < bytes.length; i++) {
            const v = out.data[i]!;
            bytes[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
          }
          return { frames: encodeUint8Tensor(bytes, out.shape) };
        }),
      Encode: (call, cb) =>
        this.handle(cb, async () => {
          const runner = this.vaeRunner(call.request.model, 'encoder');
          const frames = decodeUint8Tensor(call.request.frames, 'frames');
          checkFrames(frames.shape, 'frames');
          if (frames.shape[1] !== 3) throw new InvalidArgumentError('frames.shape', `must be [N, 3, H, W], got ${frames.shape.join('x')}`);
          const s = (runner.model.manifest as VaeManifest).spatialScale;
          if (frames.shape[2]! % s !== 0 || frames.shape[3]! % s !== 0) throw new InvalidArgumentError('frames.shape', `H and W must be multiples of ${s} (the encoder's spatial factor), got ${frames.shape.join('x')}`);
          const input = new Float32Array(frames.data.length);
          for (let i = 0; i < input.length; i++) input[i] = frames.data[i]! / 255;
          const out = await runner.vae(input, frames.shape, { outputScale: this.scalingFactor(call.request.model) });
          this.opts.onCompute?.(runner.model.name, 'encode', frames.shape[0]!, out.seconds);
          return { latents: encodeTensor(out.data, out.shape, 'float32') };
        }),
    };
    // A request that does not decode is INVALID_ARGUMENT (common/grpc-requests.ts), not INTERNAL.
    server.addService(tolerantService(service), guardHandlers(handlers) as unknown as grpc.UntypedServiceImplementation);
  }

  info(): InfoResponse {
    return {
      workerId: this.opts.workerId,
      device: this.opts.device,
      version: this.opts.version,
      maxBatch: this.opts.maxBatch,
      capacity: 1,
      maxMessageBytes: this.opts.maxMessageBytes,
      confirmsReceipt: true,
      models: [...this.opts.models.values()].map((m) => ({
        name: m.name,
        kind: m.manifest ? MODEL_KINDS[m.manifest.kind] : 'MODEL_KIND_UNSPECIFIED',
        manifestJson: m.manifestJson,
        available: m.available,
        reason: m.reason,
      })),
    };
  }

  private async evaluate(req: EvaluateRequest__Output) {
    checkEvaluateNames(req);
    const runner = this.runners.get(req.model);
    const model = this.opts.models.get(req.model);
    if (!model) throw new NotFoundError('model', req.model);
    if (!runner || model.manifest?.kind !== 'denoiser') {
      throw new InvalidArgumentError('model', model.available ? `${quoteBounded(req.model)} is not a denoiser` : `${quoteBounded(req.model)} is unavailable: ${model.reason}`);
    }
    const m = model.manifest;
    const outputDtype = OUTPUT_DTYPES[req.outputDtype];
    if (!outputDtype) throw new InvalidArgumentError('output_dtype', `must be OUTPUT_DTYPE_FLOAT16 or OUTPUT_DTYPE_FLOAT32, got ${quoteBounded(String(req.outputDtype))}`);
    if (req.items.length === 0) throw new InvalidArgumentError('items', 'is empty');
    if (req.items.length > this.opts.maxItemsPerCall) {
      throw new InvalidArgumentError('items', `has ${req.items.length} items, more than the limit ${this.opts.maxItemsPerCall}`);
    }
    // Every sample is decoded into its slot of one buffer, which the runner hands to ORT as is.
    const per = m.latentChannels * m.nativeFrames * m.nativeHeight * m.nativeWidth;
    const packed = new Float32Array(req.items.length * per);
    const inputs = req.items.map((item, i) => validateItem(m, item, i, packed.subarray(i * per, (i + 1) * per)));
    // Items that sent prompts instead of embeddings: run the model's text encoder (cached per prompt).
    await resolvePrompts(m, inputs, (name) => this.runners.get(name), (name) => this.promptCacheOf(name));
    const started = performance.now();
    const { outputs, seconds } = await runner.denoise(inputs);
    this.counters.evaluations += outputs.length;
    this.counters.computeSeconds += seconds;
    this.opts.onCompute?.(req.model, 'evaluate', outputs.length, seconds);
    if (this.opts.afterCompute) await this.opts.afterCompute(outputs.length, (performance.now() - started) / 1000);
    const shape = [m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
    return { outputs: outputs.map((o) => encodeTensor(o, shape, outputDtype)), computeSeconds: seconds };
  }

  private promptCacheOf(encoder: string): PromptCache {
    let c = this.promptCaches.get(encoder);
    if (!c) this.promptCaches.set(encoder, (c = new PromptCache()));
    return c;
  }

  /** The denoiser's VAE scaling factor (manifest `scalingFactor`, 1 when absent). */
  private scalingFactor(modelName: string): number {
    const m = this.opts.models.get(modelName)?.manifest;
    return m?.kind === 'denoiser' ? (m.scalingFactor ?? 1) : 1;
  }

  private vaeRunner(modelName: string, kind: 'decoder' | 'encoder'): ModelRunner {
    checkLength('model', modelName, MAX_MODEL_NAME_CHARS);
    const model = this.opts.models.get(modelName);
    if (!model) throw new NotFoundError('model', modelName);
    if (model.manifest?.kind !== 'denoiser') throw new InvalidArgumentError('model', `${quoteBounded(modelName)} is not a denoiser`);
    const vaeName = model.manifest[kind];
    if (!vaeName) throw new InvalidArgumentError('model', `${quoteBounded(modelName)} names no ${kind} in its manifest`);
    const runner = this.runners.get(vaeName);
    if (!runner) {
      const vae = this.opts.models.get(vaeName);
      throw new InvalidArgumentError('model', `${kind} "${vaeName}" of ${quoteBounded(modelName)} is ${vae ? `unavailable: ${vae.reason}` : 'not loaded on this worker'}`);
    }
    return runner;
  }

  /** Runs a handler with draining checks, counters and error mapping; always answers once. */
  private handle<T>(cb: grpc.sendUnaryData<T>, work: () => Promise<T>): void {
    if (this.opts.lifecycle.state !== 'serving') {
      cb(toGrpcError(new UnavailableError(`worker is ${this.opts.lifecycle.state}`)));
      return;
    }
    this.inFlightCalls++;
    this.counters.calls++;
    work().then(
      (res) => {
        this.inFlightCalls--;
        cb(null, res);
      },
      (err: unknown) => {
        this.inFlightCalls--;
        this.counters.failures++;
        const status = toGrpcError(err);
        if (status.code === grpc.status.INTERNAL) this.opts.log.error('request failed', { error: status.details });
        cb(status);
      },
    );
  }
}

/** Checks one item and decodes its sample into `slot` (the native window's size). */
function validateItem(m: DenoiserManifest, item: EvaluateRequest__Output['items'][number], i: number, slot: Float32Array): DenoiseInput {
  const field = `items[${i}]`;
  if (!item.sample) throw new InvalidArgumentError(`${field}.sample`, 'is missing');
  const shape = item.sample.shape.map(Number);
  const want = [m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  if (shape.length !== 4 || shape.some((d, j) => d !== want[j])) {
    throw new InvalidArgumentError(`${field}.sample.shape`, `must be ${want.join('x')} (the model's native window), got ${shape.join('x')}`);
  }
  decodeTensorInto(item.sample, `${field}.sample`, slot, { requireFinite: true });
  const t = item.timestep;
  // VP timesteps index the training schedule (0..T-1); flow timesteps are 1000 t, t in [0, 1].
  const maxT = m.process === 'flow' ? m.trainSchedule.numTrainTimesteps : m.trainSchedule.numTrainTimesteps - 1;
  if (!Number.isFinite(t) || t < 0 || t > maxT) {
    throw new InvalidArgumentError(`${field}.timestep`, `must be in [0, ${maxT}], got ${t}`);
  }
  // Class weights, embeddings, prompts, time ids, image latents, guidance; unknown names are refused there.
  return { sample: slot, timestep: t, ...parseItemConditioning(m, item, field) };
}

function checkFrames(shape: number[], field: string): void {
  if (shape.length !== 4) throw new InvalidArgumentError(`${field}.shape`, `must be [N, C, H, W], got ${shape.join('x')}`);
}
