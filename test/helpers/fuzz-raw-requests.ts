import * as grpc from '@grpc/grpc-js';
import { generateToken } from '../../common/auth.ts';
import { loadProtos } from '../../common/proto/load.ts';
import { FuzzDraws, WINDOW, WINDOW_N, labelled, type Request } from './fuzz-draws.ts';

/**
 * Raw fuzz requests: bodies sent through a generic grpc-js client with
 * identity serializers, made from valid encodings of requests that are
 * invalid several times over, then mangled (random bytes, truncated,
 * bit-flipped, wrong wire types, junk tails) or grown past the message limit.
 */

/** The servers' raw clients, the coordinator's valid token and both servers' message limit. */
export interface RawTargets {
  coordinator: grpc.Client;
  worker: grpc.Client;
  token: string;
  maxMessage: number;
}

function metadata(rng: FuzzDraws, token: string, kind: 'valid' | 'none' | 'wrong' | 'garbage'): grpc.Metadata {
  const md = new grpc.Metadata();
  if (kind === 'valid') md.set('authorization', `Bearer ${token}`);
  if (kind === 'wrong') md.set('authorization', `Bearer ${generateToken()}`);
  if (kind === 'garbage') md.set('authorization', rng.pick(['Bearer', 'Bearer  ', 'Basic Zm9vOmJhcg==', `Bearer ${'x'.repeat(5000)}`, 'Bearer a b c']));
  return md;
}

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
const bases = (rng: FuzzDraws): Record<string, { service: string; method: string; body: Buffer; stream?: boolean }[]> => ({
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
          input: { data: rng.bytes(64), kind: 'hologram' },
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
    { service: 'DenoiserService', method: 'Encode', body: encode('DenoiserService', 'Encode', { model: 'no-such-model', frames: { dtype: 'float32', shape: [1, 4, 8, 8], data: rng.bytes(100) } }) },
  ],
});

/** A mangled body: random bytes, truncated, bit-flipped, or with wrong wire types. */
function mangle(rng: FuzzDraws, base: Buffer): { kind: string; body: Buffer } {
  switch (rng.int(5)) {
    case 0:
      return { kind: 'random bytes', body: rng.bytes(rng.int(rng.uniform() < 0.1 ? 8192 : 256)) };
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
      return { kind: 'junk tail', body: Buffer.concat([cut, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x7f]), rng.bytes(rng.int(64))]) };
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

/** `n` mangled requests, alternating between the servers, and 16 oversized ones. */
export function rawRequests(rng: FuzzDraws, { coordinator: coordinatorRaw, worker: workerRaw, token, maxMessage }: RawTargets, n: number): Request[] {
  const BASES = bases(rng);
  const out: Request[] = [];
  for (let i = 0; i < n; i++) {
    const onWorker = i % 2 === 1;
    const base = rng.pick(BASES[onWorker ? 'DenoiserService' : 'JobService']!);
    const { kind, body } = mangle(rng, base.body);
    if (onWorker) {
      out.push(labelled(`raw ${base.method} ${kind} ${body.toString('hex').slice(0, 120)}`, rawRequest(workerRaw, base.service, base.method, body, false, new grpc.Metadata())));
    } else {
      const auth = rng.pick(['valid', 'valid', 'valid', 'none', 'wrong', 'garbage'] as const);
      out.push(labelled(`raw ${base.method} ${kind} ${auth} ${body.toString('hex').slice(0, 120)}`, rawRequest(coordinatorRaw, base.service, base.method, body, base.stream ?? false, metadata(rng, token, auth))));
      // Methods any well-formed body may call successfully are fuzzed without a valid token only.
      if (i % 20 === 0) out.push(rawRequest(coordinatorRaw, 'JobService', rng.pick(['List', 'ListModels', 'ListWorkers']), mangle(rng, Buffer.alloc(0)).body, false, metadata(rng, token, rng.pick(['none', 'wrong', 'garbage'] as const))));
    }
  }
  // Oversized: over the message limit of each server.
  for (let i = 0; i < 8; i++) {
    const big = rng.bytes(maxMessage + 1 + rng.int(1 << 20));
    out.push(rawRequest(coordinatorRaw, 'JobService', 'Submit', encode('JobService', 'Submit', { spec: { model: 'field-mixture', input: { data: big } } }), false, metadata(rng, token, 'valid')));
    out.push(rawRequest(workerRaw, 'DenoiserService', 'Evaluate', encode('DenoiserService', 'Evaluate', { model: 'field-mixture', items: [{ sample: { dtype: 'float32', shape: [big.length / 4], data: big } }] }), false, new grpc.Metadata()));
  }
  return out;
}
