import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpec } from '../../coordinator/jobs/spec.ts';
import { DEFAULT_JOB_LIMITS } from '../../coordinator/jobs/limits.ts';
import { promptToClassWeights, windowClassWeights } from '../../coordinator/jobs/prompts.ts';
import { buildReferenceModel } from '../../models/registry.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { JobSpec__Output } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { InvalidArgumentError } from '../../common/errors.ts';

const manifest = buildReferenceModel('field-mixture').manifest as DenoiserManifest;
const lookup = (name: string) => (name === 'field-mixture' ? manifest : undefined);

function raw(patch: Partial<JobSpec__Output> = {}): JobSpec__Output {
  return {
    model: 'field-mixture',
    prompt: 'clouds',
    promptSchedule: [],
    frames: 48,
    height: 256,
    width: 256,
    fps: 24,
    steps: 10,
    scheduler: '',
    eta: 0,
    seed: 1,
    sampler: null,
    layout: null,
    output: null,
    priority: 0,
    negativePrompt: '',
    guidance: 0,
    ...patch,
  } as JobSpec__Output;
}

function rejects(patch: Partial<JobSpec__Output>, field: string, message?: RegExp): void {
  assert.throws(
    () => validateSpec(raw(patch), lookup, ['field-mixture'], DEFAULT_JOB_LIMITS),
    (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${e}`);
      assert.equal(e.field, field);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

test('spec - a good spec gets defaults filled in', () => {
  const s = validateSpec(raw({ fps: 0, steps: 0 }), lookup, ['field-mixture'], DEFAULT_JOB_LIMITS);
  assert.equal(s.fps, 24);
  assert.equal(s.steps, 30);
  assert.equal(s.layout.chunkOverlap, 8);
  assert.equal(s.layout.tileOverlap, 16);
  assert.equal(s.layout.blend, 'gaussian');
  assert.equal(s.output.format, 'mp4');
  assert.deepEqual(s.promptSchedule, [{ fromFrame: 0, prompt: 'clouds' }]);
});

test('spec - overlap 0 means isolated windows, unset means the default', () => {
  const isolated = validateSpec(raw({ layout: { chunkFrames: 0, chunkOverlap: 0, tileSize: 0, tileOverlap: 0, blend: '', noiseInit: '' } }), lookup, ['field-mixture'], DEFAULT_JOB_LIMITS);
  assert.equal(isolated.layout.chunkOverlap, 0);
  assert.equal(isolated.layout.tileOverlap, 0);
  const unset = validateSpec(raw({ layout: { chunkFrames: 0, tileSize: 0, blend: '', noiseInit: 'freenoise' } }), lookup, ['field-mixture'], DEFAULT_JOB_LIMITS);
  assert.equal(unset.layout.chunkOverlap, 8);
  assert.equal(unset.layout.noiseInit, 'freenoise');
});

test('spec - bad fields are rejected with the field named', () => {
  rejects({ frames: 0 }, 'spec.frames', /\[16, 16384\]/);
  rejects({ frames: 20000 }, 'spec.frames');
  rejects({ height: 130 }, 'spec.height', /multiple of 4/);
  rejects({ width: 64 }, 'spec.width', /native window/);
  rejects({ model: 'sora' }, 'spec.model', /unknown model "sora"; known models: field-mixture/);
  rejects({ prompt: 'dragons' }, 'spec.prompt', /unknown word "dragons"; known prompts: clouds, fire, ocean, aurora, lava, forest/);
  rejects({ steps: 5000 }, 'spec.steps');
  rejects({ eta: -1 }, 'spec.eta');
  rejects({ prompt: '', promptSchedule: [{ fromFrame: 4, prompt: 'fire' }] }, 'spec.prompt_schedule[0].from_frame');
  rejects(
    {
      prompt: '',
      promptSchedule: [
        { fromFrame: 0, prompt: 'fire' },
        { fromFrame: 10, prompt: 'unicorns' },
      ],
    },
    'spec.prompt_schedule[1].prompt',
  );
  rejects({ output: { format: 'gif', crf: 0 } }, 'spec.output.format');
  rejects({ layout: { chunkFrames: 0, chunkOverlap: 16, tileSize: 0, blend: '', noiseInit: '' } }, 'spec.layout.chunk_overlap');
  rejects({ layout: { chunkFrames: 0, tileSize: 0, blend: '', noiseInit: 'pink' } }, 'spec.layout.noise_init');
});

test('prompts - class weights from words; windows blend across a schedule change', () => {
  const classes = manifest.classes;
  assert.deepEqual([...promptToClassWeights('clouds', classes, 'p')], [1, 0, 0, 0, 0, 0]);
  const mix = promptToClassWeights('fire and the ocean', classes, 'p');
  assert.equal(mix[classes.indexOf('fire')], 0.5);
  assert.equal(mix[classes.indexOf('ocean')], 0.5);
  const uniform = promptToClassWeights('', classes, 'p');
  assert.ok(uniform.every((v) => Math.abs(v - 1 / 6) < 1e-7));
  const segments = [
    { fromFrame: 0, classWeights: promptToClassWeights('clouds', classes, 'p') },
    { fromFrame: 24, classWeights: promptToClassWeights('fire', classes, 'p') },
  ];
  assert.deepEqual([...windowClassWeights(segments, 0, 16, 1)], [1, 0, 0, 0, 0, 0]);
  const straddle = windowClassWeights(segments, 16, 16, 1);
  assert.equal(straddle[0], 0.5);
  assert.equal(straddle[1], 0.5);
});

test('spec - seed: any uint64, kept exact; anything else names spec.seed', () => {
  const seedOf = (seed: unknown) => validateSpec(raw({ seed: seed as number }), lookup, ['field-mixture'], DEFAULT_JOB_LIMITS).seed;
  assert.equal(seedOf(0), 0);
  assert.equal(seedOf(2 ** 32), 2 ** 32);
  assert.equal(seedOf('4294967297'), 4294967297);
  assert.equal(seedOf('18446744073709551615'), '18446744073709551615');
  for (const bad of [-1, 1.5, 2 ** 60, '18446744073709551616', '-1', '0x10', '']) rejects({ seed: bad as number }, 'spec.seed', /must be an integer in \[0, 2\^64\)/);
});
