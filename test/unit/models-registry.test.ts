import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelManifestSchema } from '../../common/manifest.ts';
import {
  buildReferenceModel,
  ensureReferenceModels,
  REFERENCE_MODEL_NAMES,
  referenceModelFingerprint,
} from '../../models/registry.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the build CLI in a child process; resolves with its exit code. */
function buildInChild(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'models', 'build', '--dir', dir], { cwd: REPO, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

describe('models registry - build on first use', () => {
  let dir: string;
  /** sha256 of each model's bytes, built once in memory. */
  const expected = new Map<string, string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'propeller-registry-'));
    for (const name of REFERENCE_MODEL_NAMES) expected.set(name, sha(buildReferenceModel(name).bytes));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds deterministic bytes', () => {
    for (const name of REFERENCE_MODEL_NAMES) {
      assert.equal(sha(buildReferenceModel(name).bytes), expected.get(name), name);
    }
  });

  it('writes model, manifest and stamp, and every model loads in ONNX Runtime', async () => {
    const first = join(dir, 'first');
    assert.equal(await ensureReferenceModels(first), first);
    for (const name of REFERENCE_MODEL_NAMES) {
      const files = (await readdir(join(first, name))).sort();
      assert.deepEqual(files, ['build.stamp', 'manifest.json', 'model.onnx'], `${name}: no temporary files left`);
      const manifest = modelManifestSchema.parse(JSON.parse(await readFile(join(first, name, 'manifest.json'), 'utf8')));
      assert.equal(manifest.name, name);
      assert.equal((await readFile(join(first, name, 'build.stamp'), 'utf8')).trim(), referenceModelFingerprint(name));
      const session = await ort.InferenceSession.create(join(first, name, manifest.file), { intraOpNumThreads: 1 });
      await session.release();
    }
  });

  it('skips current models and rebuilds stale or damaged ones', async () => {
    const d = join(dir, 'rebuild');
    await ensureReferenceModels(d);
    const model = join(d, 'field-decoder', 'model.onnx');
    const before1 = await stat(model);
    await ensureReferenceModels(d);
    const before2 = await stat(model);
    assert.equal(before2.ino, before1.ino, 'current model left in place');
    assert.equal(before2.mtimeMs, before1.mtimeMs);

    await writeFile(join(d, 'field-decoder', 'build.stamp'), 'stale\n');
    await writeFile(join(d, 'field-encoder', 'model.onnx'), new Uint8Array());
    await ensureReferenceModels(d);
    assert.notEqual((await stat(model)).ino, before1.ino, 'stale model rebuilt');
    assert.equal((await readFile(join(d, 'field-decoder', 'build.stamp'), 'utf8')).trim(), referenceModelFingerprint('field-decoder'));
    const encoder = await readFile(join(d, 'field-encoder', 'model.onnx'));
    assert.equal(sha(encoder), expected.get('field-encoder'), 'empty model rebuilt');
  });

  it('concurrent builders in two processes both succeed and leave complete files', async () => {
    const d = join(dir, 'race');
    // The child and this process build the same directory at the same time.
    const codes = await Promise.all([buildInChild(d), ensureReferenceModels(d).then(() => 0)]);
    assert.deepEqual(codes, [0, 0]);
    for (const name of REFERENCE_MODEL_NAMES) {
      assert.deepEqual((await readdir(join(d, name))).sort(), ['build.stamp', 'manifest.json', 'model.onnx']);
      assert.equal(sha(await readFile(join(d, name, 'model.onnx'))), expected.get(name), name);
    }
  });
});
