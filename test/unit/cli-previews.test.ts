import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../../cli/args.ts';
import { SPEC_FLAGS, specFromFlags } from '../../cli/job-spec-flags.ts';
import { PreviewFile } from '../../cli/preview-file.ts';

const flags = (args: string[], extra = {}) => specFromFlags({ ...parse(args, SPEC_FLAGS).values, ...extra });

test('cli - --preview-* flags make up spec.previews; --preview FILE alone turns them on with defaults', () => {
  assert.equal(flags(['--seed', '1']).previews, undefined);
  assert.deepEqual(flags(['--preview-every', '0', '--preview-frames', '3', '--preview-width', '256', '--preview-source', 'decoder']).previews, { everySeconds: 0, frames: 3, width: 256, source: 'decoder' });
  // every_seconds unset (not 0) lets the coordinator pick its default.
  assert.deepEqual(flags([], { preview: 'out/p.png' }).previews, { frames: 0, width: 0, source: '' });
  assert.throws(() => flags(['--preview-every', 'often']), /--preview-every must be a number, got "often"/);
  assert.throws(() => flags(['--preview-width=-5']), /--preview-width must be a non-negative integer/);
});

test('cli - a preview file is replaced whole, ending with the last image offered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-preview-'));
  const file = new PreviewFile(join(dir, 'sub', 'p.png'));
  // Offered faster than written (all before the first write starts): only the last is written.
  for (let i = 1; i <= 20; i++) file.offer(new Uint8Array(1000).fill(i));
  await file.flush();
  assert.deepEqual(readFileSync(file.path), Buffer.alloc(1000, 20));
  assert.equal(file.written, 1);
  file.offer(new Uint8Array(10).fill(7));
  await file.flush();
  assert.deepEqual(readFileSync(file.path), Buffer.alloc(10, 7));
  assert.equal(file.written, 2);
  // No temporary file is left beside it.
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['p.png']);
  const bad = new PreviewFile(join(dir, 'sub', 'p.png', 'x.png'));
  bad.offer(new Uint8Array(1));
  await assert.rejects(bad.flush());
});
