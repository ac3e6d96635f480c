import type { JobClient } from '../../cli/job-client.ts';
import { encodeTensor, floatToHalf } from '../../common/tensor-codec.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { Tensor } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { FuzzDraws, WINDOW, WINDOW_N, labelled, statusOf, type Request } from './fuzz-draws.ts';
import { call } from './servers.ts';

/**
 * Structured but invalid fuzz requests through the typed clients: specs
 * broken one to three ways over (out-of-range and wrong-typed fields), absurd
 * job ids and list limits, NaN/Inf tensors, wrong shapes and dtypes, absurd
 * sizes, unknown models.
 */

/** A spec the coordinator runs: every request below breaks it or something else. */
export const GOOD_SPEC: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 3, seed: 1, output: { format: 'latent' } };

/** Changes to a good spec, each of which alone makes it invalid. */
const SPEC_BREAKERS: ((s: JobSpec, rng: FuzzDraws) => JobSpec)[] = [
  (s, rng) => ({ ...s, model: rng.pick(['nope', 'FIELD-MIXTURE', '../../etc/passwd', 'field-mixture\u0000', 'x'.repeat(10_000), '\u{1F600}']) }),
  (s, rng) => ({ ...s, frames: rng.pick([0, 1, 15, 2 ** 31, 4294967295]) }),
  (s, rng) => ({ ...s, height: rng.pick([0, 4, 130, 4294967295]) }),
  (s, rng) => ({ ...s, width: rng.pick([0, 2, 127, 100_000]) }),
  (s, rng) => ({ ...s, steps: rng.pick([1001, 100_000, 4294967295]) }),
  (s, rng) => ({ ...s, fps: rng.pick([241, 4294967295]) }),
  (s, rng) => ({ ...s, scheduler: rng.pick(['heun', 'DDIM', ' ', 'flow_euler', 'x'.repeat(3000)]) }),
  (s, rng) => ({ ...s, eta: rng.pick([Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, -0.001]) }),
  // Every uint64 is a valid seed: large ones ride along a broken field.
  (s, rng) => ({ ...s, seed: rng.pick([2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]), frames: 0 }),
  (s, rng) => ({ ...s, guidance: rng.pick([Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, -3, 1e300]) }),
  (s, rng) => ({ ...s, sampler: rng.pick([{ kind: 'warp' }, { kind: 'picard', window: 100_000 }, { kind: 'picard', tolerance: Number.NaN }, { kind: 'picard', tolerance: -1 }, { kind: 'picard', policy: 'magic' }, { kind: 'sequential', window: 3 }, { kind: '', tolerance: 0.5 }]) }),
  (s, rng) => ({ ...s, layout: rng.pick([{ chunkFrames: 3 }, { tileSize: 7 }, { blend: 'sharp' }, { noiseInit: 'pink' }, { chunkOverlap: 100_000 }, { tileOverlap: 4294967295 }]) }),
  (s, rng) => ({ ...s, output: rng.pick([{ format: 'gif' }, { format: 'mp4', crf: 52 }, { format: 'MP4' }]) }),
  (s, rng) => ({ ...s, priority: rng.pick([101, -101, 2147483647, -2147483648]) }),
  (s, rng) => ({ ...s, prompt: rng.pick(['kittens', 'ocean '.repeat(400), 'ocean\u0000fire']) }),
  (s, rng) => ({ ...s, promptSchedule: rng.pick([[{ fromFrame: 0, prompt: 'fire' }], [{ fromFrame: 3, prompt: '' }], [{ fromFrame: 0, prompt: 'fire' }, { fromFrame: 0, prompt: 'ocean' }], [{ fromFrame: 0, prompt: 'fire' }, { fromFrame: 16, prompt: 'ocean' }]]) }),
  (s, rng) => ({ ...s, mode: rng.pick(['sideways', 'image_to_video', 'video_to_video', 'extend', 'expand', 'TEXT_TO_VIDEO']) }),
  (s, rng) => ({ ...s, strength: rng.pick([Number.NaN, -0.5, 2]) }),
  (s, rng) => ({ ...s, conditioning: rng.pick<Record<string, Tensor>>([{ junk: encodeTensor(new Float32Array(4), [4]) }, { prompt_embeds: { dtype: 'complex64', shape: [1], data: Buffer.alloc(8) } }, { image_latents: { dtype: 'float16', shape: [2 ** 40], data: Buffer.alloc(2) } }]) }),
];

function brokenSpec(rng: FuzzDraws): JobSpec {
  let s = { ...GOOD_SPEC };
  for (let k = 1 + rng.int(3); k > 0; k--) s = rng.pick(SPEC_BREAKERS)(s, rng);
  return s;
}

const randomId = (rng: FuzzDraws) => rng.pick(['', 'job-', 'job-00000000-000000000000', '../../../etc/passwd', 'x'.repeat(150), '\u00e9\u00e8', 'job-lx8z2a-' + rng.bytes(6).toString('hex'), ' ', 'a/b', '%00']);

/** `n` typed JobService calls with broken specs, absurd ids and limits, with a valid token, none or a wrong one. */
export function typedJobRequests(rng: FuzzDraws, clients: { valid: JobClient; none: JobClient; wrong: JobClient }, n: number): Request[] {
  const out: Request[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 10 === 0 ? clients.none : i % 10 === 1 ? clients.wrong : clients.valid;
    switch (rng.int(8)) {
      case 0:
      case 1:
      case 2:
        {
          const spec = brokenSpec(rng);
          out.push(labelled(`Submit ${JSON.stringify(spec).slice(0, 400)}`, () => statusOf(c.submit(spec, rng.uniform() < 0.1 ? 'r'.repeat(201) : ''))));
        }
        break;
      case 3:
        out.push(() => statusOf(c.get(randomId(rng))));
        break;
      case 4:
        out.push(() => statusOf(c.cancel(randomId(rng))));
        break;
      case 5:
        out.push(() => statusOf(c.watch(randomId(rng), () => undefined)));
        break;
      case 6:
        out.push(() => statusOf(c.download(randomId(rng), '/dev/null')));
        break;
      default:
        // Unknown enum numbers and absurd limits; with no valid token, anything.
        out.push(() => statusOf(c.list(rng.pick([[99 as never], ['JOB_STATE_UNSPECIFIED'], [-1 as never]]), rng.pick([0, 10, 20_000]))));
    }
  }
  return out;
}

function halfTensor(values: number[], shape: number[]): Tensor {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(floatToHalf(v), i * 2));
  return { dtype: 'float16', shape, data: b };
}

/** Evaluate items each of which is invalid. */
const ITEM_BREAKERS: ((rng: FuzzDraws) => unknown)[] = [
  (rng) => {
    const d = new Float32Array(WINDOW_N);
    d[rng.int(WINDOW_N)] = rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    return { sample: encodeTensor(d, WINDOW, rng.pick(['float16', 'float32'] as const)), timestep: 10 };
  },
  () => ({ sample: halfTensor([Number.NaN], [1]), timestep: 10 }),
  () => ({ sample: encodeTensor(new Float32Array(4 * 16 * 32 * 31), [4, 16, 32, 31]), timestep: 10 }),
  (rng) => ({ sample: { dtype: rng.pick(['bfloat16', 'int8', '', 'float64']), shape: WINDOW, data: Buffer.alloc(WINDOW_N * 2) }, timestep: 10 }),
  (rng) => ({ sample: { dtype: 'float16', shape: rng.pick([[0, 16, 32, 32], [-1, -16, 32, 32], [2 ** 40, 1, 1, 1], [4, 16, 32, 32, 1, 1, 1, 1, 1], []]), data: Buffer.alloc(64) }, timestep: 10 }),
  (rng) => ({ sample: { dtype: 'float16', shape: WINDOW, data: Buffer.alloc(WINDOW_N * 2 - 1 - rng.int(100)) }, timestep: 10 }),
  (rng) => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: rng.pick([Number.NaN, Number.POSITIVE_INFINITY, -1, 1e9]) }),
  (rng) => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { class_weights: rng.pick([encodeTensor(new Float32Array([Number.NaN, 1, 1, 1, 1, 1]), [6], 'float32'), encodeTensor(new Float32Array(3), [3]), encodeTensor(new Float32Array(6), [6]), encodeTensor(new Float32Array([-1, 0, 0, 0, 0, 2]), [6])]) } }),
  (rng) => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { [rng.pick(['junk', 'encoder_hidden_states', ''])]: encodeTensor(new Float32Array(2), [2]) } }),
  // Guidance, uncond values and prompts on a model that declares none of them.
  (rng) => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, guidanceScale: rng.pick([2, Number.NaN, -1]) }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, uncond: { class_weights: encodeTensor(new Float32Array([1, 0, 0, 0, 0, 0]), [6], 'float32') } }),
  (rng) => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, [rng.pick(['prompts', 'negativePrompts'])]: { [rng.pick(['class_weights', 'junk'])]: { prompts: rng.pick([[], [{ text: 'a fox', weight: 1 }], [{ text: 'x'.repeat(5000), weight: 1 }]]) } } }),
  () => ({ timestep: 10 }),
];

/** `n` typed DenoiserService calls, each invalid: a bad item among good ones, bad models, bad latents or frames. */
export function typedWorkerRequests(rng: FuzzDraws, client: DenoiserServiceClient, n: number): Request[] {
  const out: Request[] = [];
  const good = { sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { class_weights: encodeTensor(new Float32Array([1, 0, 0, 0, 0, 0]), [6], 'float32') } };
  for (let i = 0; i < n; i++) {
    switch (rng.int(6)) {
      case 0:
      case 1:
      case 2: {
        // A bad item among good ones: the whole call is refused.
        const items: unknown[] = Array.from({ length: rng.int(3) }, () => good);
        const b = rng.int(ITEM_BREAKERS.length);
        items.splice(rng.int(items.length + 1), 0, ITEM_BREAKERS[b]!(rng));
        out.push(labelled(`Evaluate item breaker ${b}`, () => statusOf(call(client.Evaluate.bind(client), { model: 'field-mixture', items, outputDtype: rng.pick(['OUTPUT_DTYPE_UNSPECIFIED', 'OUTPUT_DTYPE_FLOAT16', 'OUTPUT_DTYPE_FLOAT32']) } as never))));
        break;
      }
      case 3:
        out.push(() =>
          statusOf(
            call(client.Evaluate.bind(client), rng.pick([
              { model: rng.pick(['nope', '', 'field-decoder', '../x']), items: [good] },
              { model: 'field-mixture', items: [good], outputDtype: rng.pick([7, 99, -1]) },
              { model: 'field-mixture', items: [] },
              { model: 'field-mixture', items: Array.from({ length: 300 }, () => ({ timestep: 1 })) },
            ]) as never),
          ),
        );
        break;
      case 4:
        out.push(() =>
          statusOf(
            call(client.Decode.bind(client), rng.pick([
              { model: 'field-mixture', latents: halfTensor([Number.NaN, 1, 2, 3], [1, 4, 1, 1]) },
              { model: 'field-mixture', latents: encodeTensor(new Float32Array(3 * 4 * 4), [1, 3, 4, 4]) },
              { model: 'field-mixture', latents: encodeTensor(new Float32Array(4 * 4 * 4), [4, 4, 4]) },
              { model: 'field-mixture', latents: { dtype: 'float16', shape: [60_000, 4, 512, 512], data: Buffer.alloc(8) } },
              { model: 'field-mixture', latents: encodeTensor(new Float32Array(1 * 4 * 512 * 256), [1, 4, 512, 256]) },
              { model: 'field-decoder', latents: encodeTensor(new Float32Array(16), [1, 4, 2, 2]) },
              { model: 'nope', latents: encodeTensor(new Float32Array(16), [1, 4, 2, 2]) },
              { model: 'field-mixture' },
            ]) as never),
          ),
        );
        break;
      default:
        out.push(() =>
          statusOf(
            call(client.Encode.bind(client), rng.pick([
              { model: 'field-mixture', frames: encodeTensor(new Float32Array(3 * 8 * 8), [1, 3, 8, 8]) },
              { model: 'field-mixture', frames: { dtype: 'uint8', shape: [1, 4, 8, 8], data: Buffer.alloc(256) } },
              { model: 'field-mixture', frames: { dtype: 'uint8', shape: [1, 3, 9, 8], data: Buffer.alloc(216) } },
              { model: 'field-mixture', frames: { dtype: 'uint8', shape: [-1, 3, -8, 8], data: Buffer.alloc(192) } },
              { model: 'field-mixture', frames: { dtype: 'uint8', shape: [1, 3, 8, 8], data: Buffer.alloc(100) } },
              { model: 'field-mixture', frames: { dtype: 'uint8', shape: [1, 3, 8], data: Buffer.alloc(24) } },
              { model: 'field-encoder', frames: { dtype: 'uint8', shape: [1, 3, 8, 8], data: Buffer.alloc(192) } },
              { model: 'field-mixture' },
            ]) as never),
          ),
        );
    }
  }
  return out;
}
