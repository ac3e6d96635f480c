/**
 * A micro-batch on the wire: its work items mapped to Evaluate items
 * (float16 or float32 latents, named conditioning tensors, guidance, prompts
 * as text) and a reply's
 * outputs decoded back, with the float16 sample buffers of settled calls
 * reused (a Picard round sends one latent-sized buffer per point; fresh ones
 * were garbage within a round).
 */
import type { EvaluateItem } from '../../common/proto/generated/propeller/v1/EvaluateItem.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { OutputDtype } from '../../common/proto/generated/propeller/v1/OutputDtype.ts';
import type { PromptMix } from '../../common/proto/generated/propeller/v1/PromptMix.ts';
import type { Tensor } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { decodeTensor, decodeTensorInto, encodeTensor } from '../../common/tensor-codec.ts';
import { workShape, type NamedConditioning, type NamedPrompts, type WindowWork } from '../layout/window-work.ts';
import type { EvalRequest } from './eval-request.ts';

/** Some of one request's items in a micro-batch. */
export interface Segment {
  p: EvalRequest;
  items: number[];
}

/** Spare float16 sample buffers kept per size (a round of 64 points, and its duplicates). */
const MAX_SPARE_HALVES = 128;

export class WireBatches {
  private readonly spareHalves = new Map<number, Buffer[]>();

  /** The outputs' dtype on the wire, the same as the latents sent. */
  readonly outputDtype: OutputDtype;

  constructor(
    private readonly dtype: 'float16' | 'float32',
    /** Tensor bytes sent and received, counted here. */
    private readonly wire: { sentBytes: number; receivedBytes: number },
  ) {
    this.outputDtype = dtype === 'float16' ? 'OUTPUT_DTYPE_FLOAT16' : 'OUTPUT_DTYPE_FLOAT32';
  }

  /**
   * The Evaluate items of `segments` and each sample's element count;
   * `release` gives their buffers back once the call has settled (grpc-js
   * has serialized them long before).
   */
  encode(segments: readonly Segment[]): { items: EvaluateItem[]; lengths: number[]; release: () => void } {
    const items: EvaluateItem[] = [];
    const lengths: number[] = [];
    const sent: Buffer[] = [];
    const half = this.dtype === 'float16';
    for (const { p, items: batch } of segments) {
      for (const i of batch) {
        const it = p.items[i]!;
        lengths.push(it.sample.length);
        const spare = half ? this.spareHalves.get(it.sample.length * 2)?.pop() : undefined;
        const sample = encodeTensor(it.sample, workShape(it), this.dtype, spare);
        if (half) sent.push(sample.data as Buffer);
        this.wire.sentBytes += (sample.data as Buffer).length;
        items.push(this.item(it, sample));
      }
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const b of sent) {
        const list = this.spareHalves.get(b.byteLength) ?? [];
        if (list.length < MAX_SPARE_HALVES) list.push(b);
        this.spareHalves.set(b.byteLength, list);
      }
    };
    return { items, lengths, release };
  }

  /** The Evaluate item of `work`, its sample already encoded. */
  private item(work: WindowWork, sample: Tensor): EvaluateItem {
    const c = work.conditioning;
    const item: EvaluateItem = { sample, timestep: work.timestep };
    if (!c) return item;
    item.cond = this.tensors(c.cond);
    if (c.prompts) item.prompts = promptMixes(c.prompts);
    if (c.guidance) {
      item.guidanceScale = c.guidance.scale;
      item.uncond = this.tensors(c.guidance.uncond);
      if (c.guidance.negativePrompts) item.negativePrompts = promptMixes(c.guidance.negativePrompts);
    }
    return item;
  }

  /** Conditioning tensors in the wire dtype, or float32 where they ask for it. */
  private tensors(named: NamedConditioning): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [key, t] of Object.entries(named)) out[key] = encodeTensor(t.data, t.shape, t.exact ? 'float32' : this.dtype);
    return out;
  }

  /**
   * A reply's outputs as floats, aligned with its items. The first answer
   * for an item that brought its own `output` array is decoded into it;
   * others (later copies, items without one) into fresh arrays the caller
   * may reuse (handOver). The finite check rides along the float16 conversion.
   */
  decode(res: EvaluateResponse__Output, segments: readonly Segment[], lengths: readonly number[]): Float32Array[] {
    if (res.outputs.length !== lengths.length) throw new Error(`worker returned ${res.outputs.length} outputs for ${lengths.length} items`);
    const outs: Float32Array[] = new Array(lengths.length);
    let j = 0;
    for (const { p, items: batch } of segments) {
      for (const i of batch) {
        const t = res.outputs[j]!;
        this.wire.receivedBytes += t.data.length;
        const into = p.items[i]!.output;
        if (into && !p.done && p.results[i] === undefined && into.length === lengths[j]) {
          decodeTensorInto(t, `worker output ${j}`, into, { requireFinite: true });
          outs[j] = into;
        } else {
          const host = decodeTensor(t, `worker output ${j}`, { requireFinite: true, handOver: true });
          if (host.data.length !== lengths[j]) throw new Error(`worker output ${j} has ${host.data.length} elements`);
          outs[j] = host.data;
        }
        j++;
      }
    }
    return outs;
  }
}

function promptMixes(named: NamedPrompts): Record<string, PromptMix> {
  const out: Record<string, PromptMix> = {};
  for (const [key, prompts] of Object.entries(named)) out[key] = { prompts: prompts.map((p) => ({ text: p.text, weight: p.weight })) };
  return out;
}
