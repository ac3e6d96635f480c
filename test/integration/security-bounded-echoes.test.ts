import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { messageLimitOptions } from '../../common/grpc-options.ts';
import { MAX_STATUS_DETAILS_BYTES } from '../../common/grpc-status.ts';
import { loadProtos } from '../../common/proto/load.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { JobServiceClient } from '../../common/proto/generated/propeller/v1/JobService.ts';
import type { ListModelsResponse__Output } from '../../common/proto/generated/propeller/v1/ListModelsResponse.ts';
import { call, denoiserClient, workerAndCoordinator } from '../helpers/servers.ts';

/**
 * Every string a service echoes is bounded, and every request field that
 * names something is length-checked first. A 200 KB name quoted into a status
 * does not fit the HTTP/2 trailer that carries it: the call got no status at
 * all and ran into its deadline, and the channel's next calls timed out too.
 * Here each such request answers INVALID_ARGUMENT at once, with details under
 * the bound, and the same channel then serves a valid call.
 */

const HUGE = 'a'.repeat(200_000);
/** Far below any deadline a status that hangs would reach. */
const PROMPT_MS = 5_000;
const SHAPE = [4, 16, 32, 32];
const N = 4 * 16 * 32 * 32;

let denoiser: DenoiserServiceClient;
let jobs: JobServiceClient;
workerAndCoordinator({}, ({ worker, coordinator }) => {
  denoiser = denoiserClient(worker.address);
  const Ctor = loadProtos().jobs.propeller.v1.JobService;
  jobs = new Ctor(coordinator.address, grpc.credentials.createInsecure(), messageLimitOptions());
});

after(() => {
  denoiser?.close();
  jobs?.close();
});

/** A valid Evaluate item, with `edit` applied. */
function item(edit: (it: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const it: Record<string, unknown> = {
    sample: encodeTensor(new Float32Array(N), SHAPE, 'float32'),
    timestep: 500,
    cond: { class_weights: encodeTensor(new Float32Array([1, 0, 0, 0, 0, 0]), [6], 'float32') },
  };
  edit(it);
  return it;
}

function evaluate(req: Record<string, unknown>): Promise<EvaluateResponse__Output> {
  return call(denoiser.Evaluate.bind(denoiser), { model: 'field-mixture', outputDtype: 'OUTPUT_DTYPE_FLOAT32', items: [item()], ...req } as never, PROMPT_MS);
}

/** Rejects INVALID_ARGUMENT, promptly, naming `field` and its limit, with bounded details. */
async function expectBounded(p: Promise<unknown>, field: RegExp): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT, `expected INVALID_ARGUMENT, got ${grpc.status[e.code]}: ${e.details.slice(0, 200)}`);
    assert.ok(Buffer.byteLength(e.details) <= MAX_STATUS_DETAILS_BYTES, `details of ${Buffer.byteLength(e.details)} bytes`);
    assert.match(e.details, field);
    assert.match(e.details, /limit \d+/);
    return true;
  });
}

async function workerStillServes(): Promise<void> {
  const res = await evaluate({});
  assert.equal(res.outputs.length, 1);
}

async function coordinatorStillServes(): Promise<void> {
  const res = await call<object, ListModelsResponse__Output>(jobs.ListModels.bind(jobs), {}, PROMPT_MS);
  assert.ok(res.models.some((m) => m.name === 'field-mixture'));
}

test('bounded echoes - Evaluate with a 200 KB model name: INVALID_ARGUMENT naming model, and the channel still serves', async () => {
  await expectBounded(evaluate({ model: HUGE }), /^model is 200000 characters long/);
  await workerStillServes();
});

test('bounded echoes - Evaluate with a 200 KB dtype (sample, conditioning) or an unknown output dtype: INVALID_ARGUMENT, and the channel still serves', async () => {
  // The output dtype is an enum: no text to echo, and a value it does not list is refused.
  await assert.rejects(evaluate({ outputDtype: 99 }), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.match(e.details, /^output_dtype must be OUTPUT_DTYPE_FLOAT16 or OUTPUT_DTYPE_FLOAT32, got "99"/);
    return true;
  });
  const bigDtype = { dtype: HUGE, shape: SHAPE, data: Buffer.alloc(N * 4) };
  await expectBounded(evaluate({ items: [item((it) => (it.sample = bigDtype))] }), /^items\[0\]\.sample\.dtype/);
  await expectBounded(
    evaluate({ items: [item((it) => (it.cond = { class_weights: { dtype: HUGE, shape: [6], data: Buffer.alloc(24) } }))] }),
    /^items\[0\]\.cond\.class_weights\.dtype/,
  );
  await workerStillServes();
});

test('bounded echoes - Evaluate with a 200 KB conditioning key or prompt: INVALID_ARGUMENT that does not quote it, and the channel still serves', async () => {
  const tensor = encodeTensor(new Float32Array([1]), [1], 'float32');
  const mix = { prompts: [{ text: 'a fox', weight: 1 }] };
  for (const [field, value] of [['cond', tensor], ['uncond', tensor], ['prompts', mix], ['negativePrompts', mix]] as const) {
    await expectBounded(
      evaluate({ items: [item((it) => (it[field] = { ...(it[field] as object), [HUGE]: value }))] }),
      new RegExp(`^items\\[0\\]\\.${field === 'negativePrompts' ? 'negative_prompts' : field} has a key of \\d+ characters`),
    );
  }
  await expectBounded(
    evaluate({ items: [item((it) => (it.prompts = { encoder_hidden_states: { prompts: [{ text: 'a fox', weight: 1 }, { text: HUGE, weight: 1 }] } }))] }),
    /^items\[0\]\.prompts\.encoder_hidden_states\.prompts\[1\]\.text is 200000 characters long/,
  );
  await workerStillServes();
});

test('bounded echoes - Decode and Encode with a 200 KB model name: INVALID_ARGUMENT', async () => {
  await expectBounded(call(denoiser.Decode.bind(denoiser), { model: HUGE, latents: encodeTensor(new Float32Array(4 * 64), [1, 4, 8, 8]) } as never, PROMPT_MS), /^model is/);
  await expectBounded(call(denoiser.Encode.bind(denoiser), { model: HUGE, frames: { dtype: 'uint8', shape: [1, 3, 8, 8], data: Buffer.alloc(192) } } as never, PROMPT_MS), /^model is/);
  await workerStillServes();
});

const SPEC = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 3, seed: 1, output: { format: 'latent' } };

test('bounded echoes - Submit with a 200 KB model name or client request id: INVALID_ARGUMENT, and the coordinator still serves', async () => {
  const submit = (req: object) => call(jobs.Submit.bind(jobs), req as never, PROMPT_MS);
  await expectBounded(submit({ spec: { ...SPEC, model: HUGE } }), /^spec\.model is 200000 characters long/);
  await expectBounded(submit({ spec: SPEC, clientRequestId: HUGE }), /^client_request_id is 200000 characters long/);
  await expectBounded(submit({ spec: { ...SPEC, conditioning: { [HUGE]: encodeTensor(new Float32Array(1), [1]) } } }), /^spec\.conditioning has a tensor name of 200000 characters/);
  await coordinatorStillServes();
});

test('bounded echoes - Get, Cancel, Watch and Download with a 200 KB job id: INVALID_ARGUMENT, and the coordinator still serves', async () => {
  await expectBounded(call(jobs.Get.bind(jobs), { id: HUGE } as never, PROMPT_MS), /^id is 200000 characters long/);
  await expectBounded(call(jobs.Cancel.bind(jobs), { id: HUGE } as never, PROMPT_MS), /^id is 200000 characters long/);
  for (const method of ['Watch', 'Download'] as const) {
    const stream = jobs[method]({ id: HUGE }, { deadline: Date.now() + PROMPT_MS });
    const ended = new Promise<never>((_, reject) => {
      stream.on('data', () => undefined);
      stream.on('error', reject);
    });
    await expectBounded(ended, /^id is 200000 characters long/);
  }
  await coordinatorStillServes();
});
