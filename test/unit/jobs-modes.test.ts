import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { JobSpec__Output } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { DEFAULT_JOB_LIMITS } from '../../coordinator/jobs/limits.ts';
import { DEFAULT_STRENGTH, checkInputFits, validateModeFields } from '../../coordinator/jobs/modes.ts';
import { specToProto, validateSpec } from '../../coordinator/jobs/spec.ts';
import type { InputProbe } from '../../coordinator/video/input-reader.ts';
import { buildReferenceModel } from '../../models/registry.ts';

const manifest = buildReferenceModel('field-mixture').manifest as DenoiserManifest;
const lookup = (name: string) => (name === 'field-mixture' ? manifest : undefined);
const bytes = Buffer.from('not checked here');

function raw(patch: Partial<JobSpec__Output> = {}): JobSpec__Output {
  return {
    model: 'field-mixture', prompt: 'clouds', promptSchedule: [], frames: 32, height: 128, width: 128, fps: 24, steps: 10,
    scheduler: '', eta: 0, seed: 1, sampler: null, layout: null, output: null, priority: 0, negativePrompt: '', guidance: 0,
    mode: '', input: null,
    ...patch,
  } as JobSpec__Output;
}

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${e}`);
    return e.field;
  }
  assert.fail('expected an error');
}

const validate = (patch: Partial<JobSpec__Output>, limits = DEFAULT_JOB_LIMITS) => validateSpec(raw(patch), lookup, ['field-mixture'], limits);

test('modes - defaults: text_to_video without input; video_to_video strength 0.6 unless set (0 is a value)', () => {
  const t2v = validate({});
  assert.equal(t2v.mode, 'text_to_video');
  assert.equal(t2v.strength, 0);
  assert.equal(validate({ mode: 'video_to_video', input: { data: bytes, kind: '' } }).strength, DEFAULT_STRENGTH);
  assert.equal(validate({ mode: 'video_to_video', input: { data: bytes, kind: '' }, strength: 0 }).strength, 0);
  assert.equal(validate({ mode: 'video_to_video', input: { data: bytes, kind: '' }, strength: 1 }).strength, 1);
  for (const mode of ['image_to_video', 'extend', 'expand'] as const) assert.equal(validate({ mode, input: { data: bytes, kind: 'image' } }).mode, mode);
});

test('modes - bad mode fields name the field', () => {
  assert.equal(field(() => validate({ mode: 'inpaint' })), 'spec.mode');
  assert.equal(field(() => validate({ input: { data: bytes, kind: '' } })), 'spec.input');
  assert.equal(field(() => validate({ mode: 'text_to_video', input: { data: Buffer.alloc(0), kind: '' } })), 'spec.input');
  for (const mode of ['image_to_video', 'video_to_video', 'extend', 'expand']) assert.equal(field(() => validate({ mode })), 'spec.input', mode);
  assert.equal(field(() => validate({ mode: 'extend', input: { data: Buffer.alloc(0), kind: '' } })), 'spec.input.data');
  assert.equal(field(() => validate({ mode: 'extend', input: { data: bytes, kind: '' } }, { ...DEFAULT_JOB_LIMITS, maxInputBytes: 4 })), 'spec.input.data');
  assert.equal(field(() => validate({ mode: 'extend', input: { data: bytes, kind: 'audio' } })), 'spec.input.kind');
  assert.equal(field(() => validate({ mode: 'video_to_video', input: { data: bytes, kind: '' }, strength: 1.5 })), 'spec.strength');
  assert.equal(field(() => validate({ mode: 'video_to_video', input: { data: bytes, kind: '' }, strength: -0.1 })), 'spec.strength');
  assert.equal(field(() => validate({ mode: 'extend', input: { data: bytes, kind: '' }, strength: 0.5 })), 'spec.strength');
  assert.equal(field(() => validate({ strength: 0 })), 'spec.strength');
  const noEncoder = { ...manifest, encoder: undefined };
  assert.equal(field(() => validateModeFields(raw({ mode: 'expand', input: { data: bytes, kind: '' } }), noEncoder, 100)), 'spec.mode');
});

test('modes - the probed input must fit the job', () => {
  const video: InputProbe = { kind: 'video', width: 96, height: 160, frames: 20, codec: 'h264' };
  const image: InputProbe = { kind: 'image', width: 96, height: 160, frames: 1, codec: 'png' };
  const job = { frames: 32, height: 128, width: 224 };
  const fits = (mode: 'image_to_video' | 'video_to_video' | 'extend' | 'expand', probe: InputProbe, j = job, kindHint: '' | 'image' | 'video' = '') =>
    checkInputFits({ mode, strength: 0, kindHint }, probe, j, manifest);
  assert.deepEqual(fits('extend', video), { kind: 'video', frames: 20, width: 96, height: 160 });
  assert.equal(field(() => fits('extend', video, { ...job, frames: 20 })), 'spec.frames');
  assert.equal(field(() => fits('video_to_video', video)), 'spec.input.data');
  assert.equal(field(() => fits('expand', video)), 'spec.input.data');
  assert.deepEqual(fits('expand', video, { ...job, frames: 16 }), { kind: 'video', frames: 20, width: 96, height: 160 });
  // an image is repeated over the frames; a video taken as an image uses its first frame
  assert.equal(fits('video_to_video', image).kind, 'image');
  assert.deepEqual(fits('expand', video, job, 'image'), { kind: 'image', frames: 1, width: 96, height: 160 });
  assert.equal(fits('image_to_video', video).frames, 20);
  assert.equal(field(() => fits('expand', { ...image, width: 1, height: 4000 })), 'spec.input.data');
});

test('modes - the wire form echoes the mode, strength and input kind, never the bytes', () => {
  const spec = { ...validate({ mode: 'video_to_video', input: { data: bytes, kind: '' }, strength: 0.25 }), input: { ref: 'in-x', kind: 'video' as const, frames: 20, width: 96, height: 160, bytes: 16 } };
  const wire = specToProto(spec);
  assert.equal(wire.mode, 'video_to_video');
  assert.equal(wire.strength, 0.25);
  assert.equal(wire.input?.kind, 'video');
  assert.equal(wire.input?.data?.length, 0);
  const t2v = specToProto(validate({}));
  assert.equal(t2v.strength, undefined);
  assert.equal(t2v.input, undefined);
});
