import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { JobClient } from '../../cli/job-client.ts';
import { generateToken, hashToken } from '../../common/auth.ts';
import { encodeTensor, floatToHalf } from '../../common/tensor-codec.ts';
import { Rng } from '../../common/rng.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { Tensor } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { call, denoiserClient, startTestCoordinator, startTestWorker } from '../helpers/servers.ts';

/**
 * Over 10,000 malformed requests against a live coordinator (tokens on) and
 * a live worker: raw bodies through a generic grpc-js client with identity
 * serializers (random bytes, truncated and bit-flipped valid messages, wrong
 * wire types, oversized fields), and structured-but-invalid requests through
 * the typed clients (NaN/Inf tensors, wrong shapes and dtypes, absurd sizes,
 * out-of-range and wrong-typed spec fields, bad tokens). Every answer must be
 * INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED or NOT_FOUND; no job
 * may be created; both servers still run a normal job afterwards.
 */

const MAX_MESSAGE = 4 << 20;
const IN_FLIGHT = 64;
const ALLOWED = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAUTHENTICATED, grpc.status.NOT_FOUND]);
const token = generateToken();
const adminToken = generateToken();
const WINDOW = [4, 16, 32, 32];
const WINDOW_N = 4 * 16 * 32 * 32;

let worker: WorkerHandle;
let coordinator: CoordinatorHandle;

before(async () => {
  worker = await startTestWorker({ maxMessageBytes: MAX_MESSAGE });
  coordinator = await startTestCoordinator({
    workers: [worker.address],
    maxMessageBytes: MAX_MESSAGE,
    auth: { tokens: [{ tenant: 'fuzz', sha256: hashToken(token), admin: false }, { tenant: 'ops', sha256: hashToken(adminToken), admin: true }] },
  });
});

after(async () => {
  await coordinator.close();
  await worker.drain();
});

/** One request to send, resolving with its status code; `label` says what it was (for a failure message). */
type Request = (() => Promise<grpc.status>) & { label?: string };
const labelled = (label: string, r: () => Promise<grpc.status>): Request => Object.assign(r, { label });

const rng = new Rng(20_261_126);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const randomBytes = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
};

function metadata(kind: 'valid' | 'none' | 'wrong' | 'garbage'): grpc.Metadata {
  const md = new grpc.Metadata();
  if (kind === 'valid') md.set('authorization', `Bearer ${token}`);
  if (kind === 'wrong') md.set('authorization', `Bearer ${generateToken()}`);
  if (kind === 'garbage') md.set('authorization', pick(['Bearer', 'Bearer  ', 'Basic Zm9vOmJhcg==', `Bearer ${'x'.repeat(5000)}`, 'Bearer a b c']));
  return md;
}

// ---- raw bodies --------------------------------------------------------------

const identity = (b: Buffer) => b;
const serializers = loadProtos().packageDefinition as unknown as Record<string, Record<string, { requestSerialize(o: unknown): Buffer }>>;
const encode = (service: string, method: string, body: unknown) => serializers[`propeller.v1.${service}`]![method]!.requestSerialize(body);

function nanHalves(n: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeUInt16LE(i % 2 ? 0x7e00 : 0x7c00, i * 2); // NaN, +Inf
  return b;
}

/**
 * Valid encodings of requests that are invalid several times over (so no
 * truncation or bit flip can turn one into a valid request that creates a job).
 */
const BASES: Record<string, { service: string; method: string; body: Buffer; stream?: boolean }[]> = {
  JobService: [
    {
      service: 'JobService',
      method: 'Submit',
      body: encode('JobService', 'Submit', {
        spec: {
          model: 'no-such-model',
          prompt: 'ocean',
          promptSchedule: [{ fromFrame: 0, prompt: 'fire' }],
          frames: 5,
          height: 130,
          width: 131,
          steps: 100_000,
          scheduler: 'heun',
          eta: Number.NaN,
          sampler: { kind: 'warp', window: 9999, tolerance: Number.POSITIVE_INFINITY, policy: 'x' },
          layout: { chunkFrames: 3, tileSize: 7, blend: 'sharp', noiseInit: 'x' },
          output: { format: 'gif', crf: 99 },
          priority: 1000,
          conditioning: { junk: { dtype: 'float16', shape: [8], data: nanHalves(8) } },
          input: { data: randomBytes(64), kind: 'hologram' },
        },
        clientRequestId: 'fuzz',
      }),
    },
    ...['Get', 'Cancel'].map((method) => ({ service: 'JobService', method, body: encode('JobService', method, { id: 'job-nonexistent-0000' }) })),
    ...['Watch', 'Download'].map((method) => ({ service: 'JobService', method, body: encode('JobService', method, { id: 'job-nonexistent-0000' }), stream: true })),
  ],
  DenoiserService: [
    {
      service: 'DenoiserService',
      method: 'Evaluate',
      body: encode('DenoiserService', 'Evaluate', {
        model: 'no-such-model',
        items: [{ sample: { dtype: 'float16', shape: WINDOW, data: nanHalves(WINDOW_N) }, timestep: Number.NaN, cond: { class_weights: { dtype: 'float32', shape: [6], data: Buffer.alloc(24, 0xff) } }, uncond: { junk: { dtype: 'float16', shape: [1], data: nanHalves(1) } }, guidanceScale: Number.NaN, prompts: { junk: { prompts: [{ text: 'x'.repeat(2000), weight: -1 }] } } }],
        outputDtype: 'OUTPUT_DTYPE_FLOAT32',
        jobId: 'fuzz',
      }),
    },
    { service: 'DenoiserService', method: 'Decode', body: encode('DenoiserService', 'Decode', { model: 'no-such-model', latents: { dtype: 'float16', shape: [2, 4, 8, 8], data: nanHalves(512) } }) },
    { service: 'DenoiserService', method: 'Encode', body: encode('DenoiserService', 'Encode', { model: 'no-such-model', frames: { dtype: 'float32', shape: [1, 4, 8, 8], data: randomBytes(100) } }) },
  ],
};

/** A mangled body: random bytes, truncated, bit-flipped, or with wrong wire types. */
function mangle(base: Buffer): { kind: string; body: Buffer } {
  switch (rng.int(5)) {
    case 0:
      return { kind: 'random bytes', body: randomBytes(rng.int(rng.uniform() < 0.1 ? 8192 : 256)) };
    case 1:
      return { kind: 'truncated', body: base.subarray(0, rng.int(base.length)) };
    case 2: {
      const b = Buffer.from(base);
      for (let k = 1 + rng.int(3); k > 0; k--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return { kind: 'bit flips', body: b };
    }
    case 3: {
      // Wrong wire types: rewrite the low three bits of the first tag, and of a random byte or two.
      const b = Buffer.from(base);
      b[0] = (b[0]! & ~7) | rng.int(8);
      for (let k = rng.int(3); k > 0; k--) {
        const i = rng.int(b.length);
        b[i] = (b[i]! & ~7) | rng.int(8);
      }
      return { kind: 'wrong wire types', body: b };
    }
    default: {
      // Valid prefix, then junk (a field that claims more bytes than there are, or trailing garbage).
      const cut = base.subarray(0, rng.int(base.length));
      return { kind: 'junk tail', body: Buffer.concat([cut, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x7f]), randomBytes(rng.int(64))]) };
    }
  }
}

function rawRequest(client: grpc.Client, service: string, method: string, body: Buffer, stream: boolean, md: grpc.Metadata): Request {
  const path = `/propeller.v1.${service}/${method}`;
  const options = { deadline: Date.now() + 60_000 };
  return () =>
    new Promise((resolve) => {
      if (!stream) {
        client.makeUnaryRequest(path, identity, identity, body, md, options, (err) => resolve(err ? err.code : grpc.status.OK));
        return;
      }
      const c = client.makeServerStreamRequest(path, identity, identity, body, md, options);
      c.on('data', () => undefined);
      c.on('error', () => undefined);
      c.on('status', (s: grpc.StatusObject) => resolve(s.code));
    });
}

function rawRequests(coordinatorRaw: grpc.Client, workerRaw: grpc.Client, n: number): Request[] {
  const out: Request[] = [];
  for (let i = 0; i < n; i++) {
    const onWorker = i % 2 === 1;
    const base = pick(BASES[onWorker ? 'DenoiserService' : 'JobService']!);
    const { kind, body } = mangle(base.body);
    if (onWorker) {
      out.push(labelled(`raw ${base.method} ${kind} ${body.toString('hex').slice(0, 120)}`, rawRequest(workerRaw, base.service, base.method, body, false, new grpc.Metadata())));
    } else {
      const auth = pick(['valid', 'valid', 'valid', 'none', 'wrong', 'garbage'] as const);
      out.push(labelled(`raw ${base.method} ${kind} ${auth} ${body.toString('hex').slice(0, 120)}`, rawRequest(coordinatorRaw, base.service, base.method, body, base.stream ?? false, metadata(auth))));
      // Methods any well-formed body may call successfully are fuzzed without a valid token only.
      if (i % 20 === 0) out.push(rawRequest(coordinatorRaw, 'JobService', pick(['List', 'ListModels', 'ListWorkers']), mangle(Buffer.alloc(0)).body, false, metadata(pick(['none', 'wrong', 'garbage'] as const))));
    }
  }
  // Oversized: over the message limit of each server.
  for (let i = 0; i < 8; i++) {
    const big = randomBytes(MAX_MESSAGE + 1 + rng.int(1 << 20));
    out.push(rawRequest(coordinatorRaw, 'JobService', 'Submit', encode('JobService', 'Submit', { spec: { model: 'field-mixture', input: { data: big } } }), false, metadata('valid')));
    out.push(rawRequest(workerRaw, 'DenoiserService', 'Evaluate', encode('DenoiserService', 'Evaluate', { model: 'field-mixture', items: [{ sample: { dtype: 'float32', shape: [big.length / 4], data: big } }] }), false, new grpc.Metadata()));
  }
  return out;
}

// ---- structured but invalid ----------------------------------------------------

const GOOD_SPEC: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 3, seed: 1, output: { format: 'latent' } };

/** Changes to a good spec, each of which alone makes it invalid. */
const SPEC_BREAKERS: ((s: JobSpec) => JobSpec)[] = [
  (s) => ({ ...s, model: pick(['nope', 'FIELD-MIXTURE', '../../etc/passwd', 'field-mixture\u0000', 'x'.repeat(10_000), '\u{1F600}']) }),
  (s) => ({ ...s, frames: pick([0, 1, 15, 2 ** 31, 4294967295]) }),
  (s) => ({ ...s, height: pick([0, 4, 130, 4294967295]) }),
  (s) => ({ ...s, width: pick([0, 2, 127, 100_000]) }),
  (s) => ({ ...s, steps: pick([1001, 100_000, 4294967295]) }),
  (s) => ({ ...s, fps: pick([241, 4294967295]) }),
  (s) => ({ ...s, scheduler: pick(['heun', 'DDIM', ' ', 'flow_euler', 'x'.repeat(3000)]) }),
  (s) => ({ ...s, eta: pick([Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, -0.001]) }),
  // Every uint64 is a valid seed: large ones ride along a broken field.
  (s) => ({ ...s, seed: pick([2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]), frames: 0 }),
  (s) => ({ ...s, guidance: pick([Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, -3, 1e300]) }),
  (s) => ({ ...s, sampler: pick([{ kind: 'warp' }, { kind: 'picard', window: 100_000 }, { kind: 'picard', tolerance: Number.NaN }, { kind: 'picard', tolerance: -1 }, { kind: 'picard', policy: 'magic' }, { kind: 'sequential', window: 3 }, { kind: '', tolerance: 0.5 }]) }),
  (s) => ({ ...s, layout: pick([{ chunkFrames: 3 }, { tileSize: 7 }, { blend: 'sharp' }, { noiseInit: 'pink' }, { chunkOverlap: 100_000 }, { tileOverlap: 4294967295 }]) }),
  (s) => ({ ...s, output: pick([{ format: 'gif' }, { format: 'mp4', crf: 52 }, { format: 'MP4' }]) }),
  (s) => ({ ...s, priority: pick([101, -101, 2147483647, -2147483648]) }),
  (s) => ({ ...s, prompt: pick(['kittens', 'ocean '.repeat(400), 'ocean\u0000fire']) }),
  (s) => ({ ...s, promptSchedule: pick([[{ fromFrame: 0, prompt: 'fire' }], [{ fromFrame: 3, prompt: '' }], [{ fromFrame: 0, prompt: 'fire' }, { fromFrame: 0, prompt: 'ocean' }], [{ fromFrame: 0, prompt: 'fire' }, { fromFrame: 16, prompt: 'ocean' }]]) }),
  (s) => ({ ...s, mode: pick(['sideways', 'image_to_video', 'video_to_video', 'extend', 'expand', 'TEXT_TO_VIDEO']) }),
  (s) => ({ ...s, strength: pick([Number.NaN, -0.5, 2]) }),
  (s) => ({ ...s, conditioning: pick<Record<string, Tensor>>([{ junk: encodeTensor(new Float32Array(4), [4]) }, { prompt_embeds: { dtype: 'complex64', shape: [1], data: Buffer.alloc(8) } }, { image_latents: { dtype: 'float16', shape: [2 ** 40], data: Buffer.alloc(2) } }]) }),
];

function brokenSpec(): JobSpec {
  let s = { ...GOOD_SPEC };
  for (let k = 1 + rng.int(3); k > 0; k--) s = pick(SPEC_BREAKERS)(s);
  return s;
}

const randomId = () => pick(['', 'job-', 'job-00000000-000000000000', '../../../etc/passwd', 'x'.repeat(150), '\u00e9\u00e8', 'job-lx8z2a-' + randomBytes(6).toString('hex'), ' ', 'a/b', '%00']);

function typedJobRequests(clients: { valid: JobClient; none: JobClient; wrong: JobClient }, n: number): Request[] {
  const out: Request[] = [];
  const code = (p: Promise<unknown>): Promise<grpc.status> => p.then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code ?? -1);
  for (let i = 0; i < n; i++) {
    const c = i % 10 === 0 ? clients.none : i % 10 === 1 ? clients.wrong : clients.valid;
    switch (rng.int(8)) {
      case 0:
      case 1:
      case 2:
        {
          const spec = brokenSpec();
          out.push(labelled(`Submit ${JSON.stringify(spec).slice(0, 400)}`, () => code(c.submit(spec, rng.uniform() < 0.1 ? 'r'.repeat(201) : ''))));
        }
        break;
      case 3:
        out.push(() => code(c.get(randomId())));
        break;
      case 4:
        out.push(() => code(c.cancel(randomId())));
        break;
      case 5:
        out.push(() => code(c.watch(randomId(), () => undefined)));
        break;
      case 6:
        out.push(() => code(c.download(randomId(), '/dev/null')));
        break;
      default:
        // Unknown enum numbers and absurd limits; with no valid token, anything.
        out.push(() => code(c.list(pick([[99 as never], ['JOB_STATE_UNSPECIFIED'], [-1 as never]]), pick([0, 10, 20_000]))));
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
const ITEM_BREAKERS: (() => unknown)[] = [
  () => {
    const d = new Float32Array(WINDOW_N);
    d[rng.int(WINDOW_N)] = pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    return { sample: encodeTensor(d, WINDOW, pick(['float16', 'float32'] as const)), timestep: 10 };
  },
  () => ({ sample: halfTensor([Number.NaN], [1]), timestep: 10 }),
  () => ({ sample: encodeTensor(new Float32Array(4 * 16 * 32 * 31), [4, 16, 32, 31]), timestep: 10 }),
  () => ({ sample: { dtype: pick(['bfloat16', 'int8', '', 'float64']), shape: WINDOW, data: Buffer.alloc(WINDOW_N * 2) }, timestep: 10 }),
  () => ({ sample: { dtype: 'float16', shape: pick([[0, 16, 32, 32], [-1, -16, 32, 32], [2 ** 40, 1, 1, 1], [4, 16, 32, 32, 1, 1, 1, 1, 1], []]), data: Buffer.alloc(64) }, timestep: 10 }),
  () => ({ sample: { dtype: 'float16', shape: WINDOW, data: Buffer.alloc(WINDOW_N * 2 - 1 - rng.int(100)) }, timestep: 10 }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: pick([Number.NaN, Number.POSITIVE_INFINITY, -1, 1e9]) }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { class_weights: pick([encodeTensor(new Float32Array([Number.NaN, 1, 1, 1, 1, 1]), [6], 'float32'), encodeTensor(new Float32Array(3), [3]), encodeTensor(new Float32Array(6), [6]), encodeTensor(new Float32Array([-1, 0, 0, 0, 0, 2]), [6])]) } }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { [pick(['junk', 'encoder_hidden_states', ''])]: encodeTensor(new Float32Array(2), [2]) } }),
  // Guidance, uncond values and prompts on a model that declares none of them.
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, guidanceScale: pick([2, Number.NaN, -1]) }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, uncond: { class_weights: encodeTensor(new Float32Array([1, 0, 0, 0, 0, 0]), [6], 'float32') } }),
  () => ({ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, [pick(['prompts', 'negativePrompts'])]: { [pick(['class_weights', 'junk'])]: { prompts: pick([[], [{ text: 'a fox', weight: 1 }], [{ text: 'x'.repeat(5000), weight: 1 }]]) } } }),
  () => ({ timestep: 10 }),
];

function typedWorkerRequests(client: DenoiserServiceClient, n: number): Request[] {
  const out: Request[] = [];
  const code = (p: Promise<unknown>): Promise<grpc.status> => p.then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code ?? -1);
  const good = { sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10, cond: { class_weights: encodeTensor(new Float32Array([1, 0, 0, 0, 0, 0]), [6], 'float32') } };
  for (let i = 0; i < n; i++) {
    switch (rng.int(6)) {
      case 0:
      case 1:
      case 2: {
        // A bad item among good ones: the whole call is refused.
        const items: unknown[] = Array.from({ length: rng.int(3) }, () => good);
        const b = rng.int(ITEM_BREAKERS.length);
        items.splice(rng.int(items.length + 1), 0, ITEM_BREAKERS[b]!());
        out.push(labelled(`Evaluate item breaker ${b}`, () => code(call(client.Evaluate.bind(client), { model: 'field-mixture', items, outputDtype: pick(['OUTPUT_DTYPE_UNSPECIFIED', 'OUTPUT_DTYPE_FLOAT16', 'OUTPUT_DTYPE_FLOAT32']) } as never))));
        break;
      }
      case 3:
        out.push(() =>
          code(
            call(client.Evaluate.bind(client), pick([
              { model: pick(['nope', '', 'field-decoder', '../x']), items: [good] },
              { model: 'field-mixture', items: [good], outputDtype: pick([7, 99, -1]) },
              { model: 'field-mixture', items: [] },
              { model: 'field-mixture', items: Array.from({ length: 300 }, () => ({ timestep: 1 })) },
            ]) as never),
          ),
        );
        break;
      case 4:
        out.push(() =>
          code(
            call(client.Decode.bind(client), pick([
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
          code(
            call(client.Encode.bind(client), pick([
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

/** Runs every request, `IN_FLIGHT` at a time, and counts answers by status code name. */
async function runAll(requests: Request[]): Promise<{ counts: Map<string, number>; unexpected: string[] }> {
  const counts = new Map<string, number>();
  const unexpected: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const code = await r();
      const name = grpc.status[code] ?? `code ${code}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!ALLOWED.has(code)) unexpected.push(`${name}: ${r.label ?? '(unlabelled)'}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { counts, unexpected };
}

test('fuzz - 10,000+ malformed requests get INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED or NOT_FOUND; both servers still run a job', async (t) => {
  const coordinatorRaw = new grpc.Client(coordinator.address, grpc.credentials.createInsecure());
  const workerRaw = new grpc.Client(worker.address, grpc.credentials.createInsecure());
  const jobClients = { valid: new JobClient(coordinator.address, 60_000, { token }), none: new JobClient(coordinator.address, 60_000), wrong: new JobClient(coordinator.address, 60_000, { token: generateToken() }) };
  const admin = new JobClient(coordinator.address, 60_000, { token: adminToken });
  const workerTyped = denoiserClient(worker.address);
  try {
    const requests = [...rawRequests(coordinatorRaw, workerRaw, 5_000), ...typedJobRequests(jobClients, 3_000), ...typedWorkerRequests(workerTyped, 2_500)];
    // Shuffle: raw, typed, coordinator and worker requests interleave on the wire.
    for (let i = requests.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [requests[i], requests[j]] = [requests[j]!, requests[i]!];
    }
    const started = performance.now();
    const { counts, unexpected } = await runAll(requests);
    const seconds = (performance.now() - started) / 1000;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const summary = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    t.diagnostic(`${total} malformed requests in ${seconds.toFixed(1)} s: ${summary}`);
    console.log(`fuzz: ${total} malformed requests in ${seconds.toFixed(1)} s: ${summary}`);
    assert.ok(total >= 10_000, `${total} requests`);
    assert.deepEqual(unexpected.slice(0, 20), [], `answers outside the allowed codes (${summary})`);

    // Nothing was created, and both servers still do real work.
    assert.deepEqual(await admin.list(), []);
    const job = await jobClients.valid.submit(GOOD_SPEC);
    const done = await jobClients.valid.watch(job.id, () => undefined);
    assert.equal(done.state, 'SUCCEEDED', done.error);
    const res = await call(workerTyped.Evaluate.bind(workerTyped), { model: 'field-mixture', items: [{ sample: encodeTensor(new Float32Array(WINDOW_N), WINDOW), timestep: 10 }] } as never);
    assert.equal((res as { outputs: unknown[] }).outputs.length, 1);
  } finally {
    coordinatorRaw.close();
    workerRaw.close();
    for (const c of [...Object.values(jobClients), admin]) c.close();
    workerTyped.close();
  }
});
