import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../../cli/args.ts';
import { SPEC_FLAGS, specFromFlags } from '../../cli/job-spec-flags.ts';

const flags = (args: string[]) => specFromFlags(parse(args, SPEC_FLAGS).values);

test('cli - --mode, --input FILE (uploaded as bytes) and --strength make up the spec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-input-'));
  const file = join(dir, 'clip.mp4');
  writeFileSync(file, Buffer.from([1, 2, 3, 4, 5]));
  const spec = flags(['--mode', 'video_to_video', '--input', file, '--strength', '0.3', '--seed', '1']);
  assert.equal(spec.mode, 'video_to_video');
  assert.deepEqual(spec.input, { data: Buffer.from([1, 2, 3, 4, 5]), kind: '' });
  assert.equal(spec.strength, 0.3);
  // strength 0 is sent (the field has presence); unset stays unset
  assert.equal(flags(['--mode', 'video_to_video', '--input', file, '--strength', '0', '--seed', '1']).strength, 0);
  const plain = flags(['--seed', '1']);
  assert.equal(plain.mode, '');
  assert.equal(plain.input, undefined);
  assert.equal(plain.strength, undefined);
  assert.equal(flags(['--mode', 'expand', '--input', file, '--input-kind', 'image', '--seed', '1']).input?.kind, 'image');
});

test('cli - an unreadable --input or a non-numeric --strength names the flag', () => {
  assert.throws(() => flags(['--input', '/nonexistent/clip.mp4']), /--input \/nonexistent\/clip\.mp4: cannot read it/);
  assert.throws(() => flags(['--strength', 'lots']), /--strength must be a number, got "lots"/);
});

test('cli - --seed takes any uint64, exact above 2^53', () => {
  assert.equal(flags(['--seed', '4294967296']).seed, 4294967296);
  assert.equal(flags(['--seed', '18446744073709551615']).seed, '18446744073709551615');
  assert.throws(() => flags(['--seed', '18446744073709551616']), /--seed must be an integer in \[0, 2\^64\)/);
  assert.throws(() => flags(['--seed', '-1']), /--seed/);
});
