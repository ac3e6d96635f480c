import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

test('proto - generated types match the .proto files (run npm run gen:proto when this fails)', () => {
  const out = mkdtempSync(join(tmpdir(), 'propeller-gen-'));
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen-proto.ts'), '--out', out], { cwd: root, stdio: 'pipe' });
  const committedDir = join(root, 'common/proto/generated');
  const fresh = files(out).map((f) => relative(out, f)).sort();
  const committed = files(committedDir).map((f) => relative(committedDir, f)).sort();
  assert.deepEqual(committed, fresh, 'the set of generated files differs');
  for (const f of fresh) {
    assert.equal(readFileSync(join(committedDir, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `${f} is stale`);
  }
});
