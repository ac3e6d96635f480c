import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelManifestSchema, type ModelManifest } from '../common/manifest.ts';
import { DEFAULT_TRAIN_SCHEDULE } from '../common/noise-schedule.ts';
import { FIELD_COMPONENTS, FIELD_WINDOW, SPECTRUM_FLOOR } from './field-mixture/components.ts';
import { buildFieldMixtureModel, fieldMixtureManifest } from './field-mixture/build.ts';
import { FLOW_T_MAX, FLOW_T_MIN } from './field-mixture/tables.ts';
import { DECODER_BIAS, DECODER_MATRIX } from './field-vae/colour-map.ts';
import {
  buildFieldDecoderModel,
  buildFieldEncoderModel,
  fieldDecoderManifest,
  fieldEncoderManifest,
} from './field-vae/build.ts';
import { TINY_UNET3D, buildTinyUnet3dModel, tinyUnet3dManifest } from './tiny-unet3d/build.ts';
import { TINY_DIT, buildTinyDitModel, tinyDitManifest } from './tiny-dit/build.ts';
import { TINY_SVD, buildTinySvdModel, tinySvdManifest } from './tiny-svd/build.ts';
import { TINY_CLIP_TEXT, buildTinyClipTextModel, tinyClipTextManifest, tinyClipVocab } from './tiny-clip-text/build.ts';

/**
 * The reference models, built on first use into a cache directory:
 * `<dir>/<name>/model.onnx`, `manifest.json` and `build.stamp`.
 *
 * A model is rebuilt only when its fingerprint changes: sha256 over
 * BUILDER_VERSION, the manifest, every parameter the graph is built from and
 * the source text of the builder (models/**.ts and the common modules it
 * uses), so an edited builder never leaves a stale model behind. Hashing
 * inputs instead of building and hashing the output keeps a warm start at a
 * few milliseconds; BUILDER_VERSION covers builds from sources that are not
 * on disk.
 *
 * Every file is written to a unique temporary name and renamed into place
 * (atomic on POSIX), model first, then manifest, then stamp: two workers
 * starting at once may both build, but neither ever reads a half-written
 * file, and a present stamp implies complete files beside it.
 */

/** Version of the graph-building code; part of every fingerprint. */
export const BUILDER_VERSION = 'propeller-reference-models/2';

/** `<repo>/.cache/models`. */
export const DEFAULT_MODEL_CACHE = fileURLToPath(new URL('../.cache/models', import.meta.url));

/** Names of the reference models, in build order. */
export const REFERENCE_MODEL_NAMES = ['field-mixture', 'field-mixture-flow', 'field-decoder', 'field-encoder'] as const;
export type ReferenceModelName = (typeof REFERENCE_MODEL_NAMES)[number];

/**
 * Random-weight stand-ins for real video models (same inputs, outputs and
 * compute shape; see models/tiny-*). Built only when asked for
 * (`ensureStandinModels`), since a worker that loads them pays for their
 * compute and memory.
 */
export const STANDIN_MODEL_NAMES = ['tiny-unet3d-s', 'tiny-unet3d-m', 'tiny-dit', 'tiny-svd', 'tiny-clip-text'] as const;
export type StandinModelName = (typeof STANDIN_MODEL_NAMES)[number];

/** Any model this registry builds. */
export type BuiltModelName = ReferenceModelName | StandinModelName;

/** Whether `name` is a stand-in this registry builds. */
export function isStandinModel(name: string): name is StandinModelName {
  return (STANDIN_MODEL_NAMES as readonly string[]).includes(name);
}

interface ReferenceModel {
  manifest(): ModelManifest;
  /** Everything besides code that the bytes depend on. */
  parameters(): unknown;
  build(): Uint8Array;
  /** Files written beside the model (a tokenizer's vocabulary), by name. */
  files?(): Record<string, string>;
}

const MODELS: Record<BuiltModelName, ReferenceModel> = {
  'field-mixture': {
    manifest: () => fieldMixtureManifest(),
    parameters: () => ({ FIELD_COMPONENTS, FIELD_WINDOW, SPECTRUM_FLOOR, DEFAULT_TRAIN_SCHEDULE }),
    build: () => buildFieldMixtureModel(),
  },
  'field-mixture-flow': {
    manifest: () => fieldMixtureManifest({ process: 'flow' }),
    parameters: () => ({ FIELD_COMPONENTS, FIELD_WINDOW, SPECTRUM_FLOOR, DEFAULT_TRAIN_SCHEDULE, FLOW_T_MIN, FLOW_T_MAX }),
    build: () => buildFieldMixtureModel({ process: 'flow' }),
  },
  'field-decoder': {
    manifest: () => fieldDecoderManifest(),
    parameters: () => ({ DECODER_MATRIX, DECODER_BIAS }),
    build: () => buildFieldDecoderModel(),
  },
  'field-encoder': {
    manifest: () => fieldEncoderManifest(),
    parameters: () => ({ DECODER_MATRIX, DECODER_BIAS }),
    build: () => buildFieldEncoderModel(),
  },
  'tiny-unet3d-s': {
    manifest: () => tinyUnet3dManifest(TINY_UNET3D.s),
    parameters: () => TINY_UNET3D.s,
    build: () => buildTinyUnet3dModel(TINY_UNET3D.s),
  },
  'tiny-unet3d-m': {
    manifest: () => tinyUnet3dManifest(TINY_UNET3D.m),
    parameters: () => TINY_UNET3D.m,
    build: () => buildTinyUnet3dModel(TINY_UNET3D.m),
  },
  'tiny-dit': {
    manifest: () => tinyDitManifest(),
    parameters: () => TINY_DIT,
    build: () => buildTinyDitModel(),
  },
  'tiny-svd': {
    manifest: () => tinySvdManifest(),
    parameters: () => TINY_SVD,
    build: () => buildTinySvdModel(),
  },
  'tiny-clip-text': {
    manifest: () => tinyClipTextManifest(),
    parameters: () => TINY_CLIP_TEXT,
    build: () => buildTinyClipTextModel(),
    files: () => {
      const { vocab, merges } = tinyClipVocab();
      return { 'vocab.json': `${JSON.stringify(vocab)}\n`, 'merges.txt': `#version: 0.2\n${merges.join('\n')}\n` };
    },
  },
};

/** Fingerprint (hex sha256) that decides whether a cached model is current. */
export function referenceModelFingerprint(name: BuiltModelName): string {
  const m = MODELS[name];
  return createHash('sha256')
    .update(JSON.stringify({ builder: BUILDER_VERSION, name, manifest: m.manifest(), parameters: m.parameters() }))
    .update(builderSourceHash())
    .digest('hex');
}

/** sha256 of the builder's source files (sorted by path); '' where the sources are not on disk. */
function builderSourceHash(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files: string[] = [join(root, 'common', 'manifest.ts'), join(root, 'common', 'noise-schedule.ts')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  try {
    walk(join(root, 'models'));
    const hash = createHash('sha256');
    for (const file of files.sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    return hash.digest('hex');
  } catch {
    return '';
  }
}

/** Builds one reference model in memory: its ONNX bytes and validated manifest. */
export function buildReferenceModel(name: BuiltModelName): { bytes: Uint8Array; manifest: ModelManifest } {
  const m = MODELS[name];
  return { bytes: m.build(), manifest: modelManifestSchema.parse(m.manifest()) };
}

/** Per-directory builds in flight in this process, so concurrent callers share one build. */
const inFlight = new Map<string, Promise<string>>();

/**
 * Makes sure every reference model is present and current under `dir`,
 * building what is missing or stale, and returns `dir`.
 *
 * @param dir cache directory, `<repo>/.cache/models` by default (the CLI
 *   passes $PROPELLER_MODEL_DIR when set).
 */
export async function ensureReferenceModels(dir: string = DEFAULT_MODEL_CACHE): Promise<string> {
  const running = inFlight.get(dir);
  if (running) return running;
  const job = (async () => {
    for (const name of REFERENCE_MODEL_NAMES) await ensureModel(dir, name);
    return dir;
  })();
  inFlight.set(dir, job);
  try {
    return await job;
  } finally {
    inFlight.delete(dir);
  }
}

/** `<repo>/.cache/standins`: stand-ins live apart from the reference models, so a worker loads them only when asked. */
export const DEFAULT_STANDIN_CACHE = fileURLToPath(new URL('../.cache/standins', import.meta.url));

/**
 * Makes sure the named stand-ins are present and current under `dir`
 * (`<dir>/<name>/`), building what is missing or stale, and returns one
 * model directory per name, in order: what `propeller worker --models`
 * takes. Unknown names are an error listing the known ones.
 */
export async function ensureStandinModels(names: readonly string[], dir: string = DEFAULT_STANDIN_CACHE): Promise<string[]> {
  for (const name of names) {
    if (!isStandinModel(name)) throw new Error(`unknown stand-in model "${name}"; known: ${STANDIN_MODEL_NAMES.join(', ')}`);
  }
  const out: string[] = [];
  for (const name of names as readonly StandinModelName[]) {
    const key = `${dir}\0${name}`;
    let job = inFlight.get(key);
    if (!job) {
      job = ensureModel(dir, name).then(() => join(dir, name));
      inFlight.set(key, job);
      job.finally(() => inFlight.delete(key)).catch(() => undefined);
    }
    out.push(await job);
  }
  return out;
}

async function ensureModel(dir: string, name: BuiltModelName): Promise<void> {
  const modelDir = join(dir, name);
  const want = referenceModelFingerprint(name);
  if (await isCurrent(modelDir, want)) return;
  const { bytes, manifest } = buildReferenceModel(name);
  await mkdir(modelDir, { recursive: true });
  await writeAtomic(join(modelDir, manifest.file), bytes);
  for (const [file, text] of Object.entries(MODELS[name].files?.() ?? {})) await writeAtomic(join(modelDir, file), text);
  await writeAtomic(join(modelDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeAtomic(join(modelDir, 'build.stamp'), `${want}\n`);
}

async function isCurrent(modelDir: string, fingerprint: string): Promise<boolean> {
  try {
    const stamp = (await readFile(join(modelDir, 'build.stamp'), 'utf8')).trim();
    if (stamp !== fingerprint) return false;
    const manifest = modelManifestSchema.parse(JSON.parse(await readFile(join(modelDir, 'manifest.json'), 'utf8')));
    return (await stat(join(modelDir, manifest.file))).size > 0;
  } catch {
    // Missing or unreadable files simply mean "build it".
    return false;
  }
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
