import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { propellerCommands, shellBlocks, videoOutputs } from '../helpers/doc-blocks.ts';

test('docs blocks - shell fences are found with their attributes; other languages are not', () => {
  const root = mkdtempSync(join(tmpdir(), 'propeller-doc-blocks-'));
  const md = join(root, 'x.md');
  writeFileSync(
    md,
    ['# t', '```sh', 'npx propeller ls', '```', '```json', '{"a": 1}', '```', '- item', '  ```bash no-run:gpu', '  npx propeller worker --device cuda:0', '  ```', '~~~shell no-run:later', 'echo', '~~~', '````sh', '```', 'inner', '````'].join('\n'),
  );
  const blocks = shellBlocks(root, md);
  assert.deepEqual(
    blocks.map((b) => [b.line, b.code, b.noRun, b.problem !== undefined]),
    [
      [2, 'npx propeller ls', undefined, false],
      [9, 'npx propeller worker --device cuda:0', 'gpu', false],
      [12, 'echo', undefined, true],
      [15, '```\ninner', undefined, false],
    ],
  );
});

test('docs blocks - propeller commands are split as the shell splits them', () => {
  const code = [
    'models=$(npx propeller models build --standins a,b | paste -sd, -)',
    'npx propeller up --models "$models" --listen 127.0.0.1:7420 &',
    "npx propeller submit --prompt 'a red fox' --schedule \"0:clouds,24:fire\" \\",
    '  --out out/a.mp4 > log.txt 2>&1 # done',
    'id=$(npx propeller submit --prompt ocean); npx propeller watch "$id"',
    'echo npx propellerx',
  ].join('\n');
  assert.deepEqual(propellerCommands(code), [
    ['models', 'build', '--standins', 'a,b'],
    ['up', '--models', 'X', '--listen', '127.0.0.1:7420'],
    ['submit', '--prompt', 'a red fox', '--schedule', '0:clouds,24:fire', '--out', 'out/a.mp4'],
    ['submit', '--prompt', 'ocean'],
    ['watch', 'X'],
  ]);
  assert.deepEqual(videoOutputs(code), ['out/a.mp4']);
  assert.deepEqual(videoOutputs('npx propeller submit --out=out/b.webm\nnpx propeller download $id --out "$f"'), ['out/b.webm']);
});
