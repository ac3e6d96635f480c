import * as ort from 'onnxruntime-node';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { modelManifestSchema, type ModelManifest } from '../common/manifest.ts';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { checkGraphContract } from './graph-contract.ts';
import { ClipTokenizer } from './clip-tokenizer.ts';
import { executionProviders, probeExecutionProvider } from './execution-provider.ts';

/** How sessions are created: execution providers and explicit thread counts. */
export interface SessionSettings {
  /** "cpu", or "cuda" / "cuda:N" on GPU nodes. */
  device: string;
  intraOpThreads: number;
  interOpThreads: number;
}

/** A model found under a model directory: loaded, or unavailable with the reason. */
export interface LoadedModel {
  name: string;
  dir: string;
  manifest: ModelManifest | undefined;
  /** Raw manifest text as read (reported over Info). */
  manifestJson: string;
  session: ort.InferenceSession | undefined;
  /** Text encoders: the tokenizer read from the files beside the model. */
  tokenizer?: ClipTokenizer;
  available: boolean;
  reason: string;
  loadSeconds: number;
}

/** Manifest files under `dir`: `dir/manifest.json` and `dir/<model>/manifest.json`. */
export function findManifests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  if (existsSync(join(dir, 'manifest.json'))) found.push(join(dir, 'manifest.json'));
  for (const name of readdirSync(dir).sort()) {
    const sub = join(dir, name);
    if (statSync(sub).isDirectory() && existsSync(join(sub, 'manifest.json'))) found.push(join(sub, 'manifest.json'));
  }
  return found;
}

/** ORT session options for the settings: providers from the device string (see execution-provider.ts). */
export function sessionOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: executionProviders(s.device),
    intraOpNumThreads: s.intraOpThreads,
    interOpNumThreads: s.interOpThreads,
    graphOptimizationLevel: 'all',
  };
}

/**
 * Loads every model under `dirs`, one long-lived session each. A model whose
 * manifest or file is broken is kept as unavailable with the reason, so the
 * worker still serves the others; a missing execution provider is an
 * ExecutionProviderError (the worker refuses to start).
 */
export async function loadModels(dirs: readonly string[], settings: SessionSettings, log: Logger): Promise<Map<string, LoadedModel>> {
  // A configured provider that cannot run here stops the worker before any model loads (ExecutionProviderError).
  await probeExecutionProvider(settings.device);
  const models = new Map<string, LoadedModel>();
  for (const dir of dirs) {
    for (const manifestPath of findManifests(dir)) {
      const model = await loadOne(manifestPath, settings);
      if (models.has(model.name)) {
        log.warn('duplicate model name; keeping the first', { name: model.name, dir: model.dir });
        continue;
      }
      if (model.available) log.info('model loaded', { name: model.name, seconds: model.loadSeconds.toFixed(3) });
      else log.warn('model unavailable', { name: model.name, reason: model.reason });
      models.set(model.name, model);
    }
  }
  checkTextEncoders(models, log);
  return models;
}

/**
 * A denoiser's embeddings must have its text encoder's [maxLength,
 * hiddenSize]; a mismatch makes the denoiser unavailable, naming the field.
 * A text encoder that is not loaded here only means prompts cannot be
 * encoded on this worker (uploaded embeddings still work).
 */
function checkTextEncoders(models: Map<string, LoadedModel>, log: Logger): void {
  for (const model of models.values()) {
    const m = model.manifest;
    if (!model.available || m?.kind !== 'denoiser') continue;
    for (const [i, c] of (m.conditioning ?? []).entries()) {
      if (c.source !== 'embeddings' || !c.textEncoder) continue;
      const te = models.get(c.textEncoder)?.manifest;
      if (!te) {
        log.info('text encoder not loaded here; prompts need uploaded embeddings', { model: model.name, textEncoder: c.textEncoder });
        continue;
      }
      const want = te.kind === 'text_encoder' ? [te.maxLength, te.hiddenSize] : undefined;
      if (!want || c.shape.length !== 2 || c.shape[0] !== want[0] || c.shape[1] !== want[1]) {
        model.available = false;
        model.reason = want
          ? `manifest.json: conditioning[${i}].shape: [${c.shape.join(', ')}] does not match text encoder "${c.textEncoder}" ([maxLength, hiddenSize] = [${want.join(', ')}])`
          : `manifest.json: conditioning[${i}].textEncoder: "${c.textEncoder}" is a ${te.kind}, not a text_encoder`;
        log.warn('model unavailable', { name: model.name, reason: model.reason });
      }
    }
  }
}

async function loadOne(manifestPath: string, settings: SessionSettings): Promise<LoadedModel> {
  const dir = dirname(manifestPath);
  const fallbackName = dir.split('/').pop() ?? 'model';
  let manifestJson = '';
  const started = performance.now();
  const fail = (name: string, reason: string, manifest?: ModelManifest): LoadedModel => ({
    name,
    dir,
    manifest,
    manifestJson,
    session: undefined,
    available: false,
    reason,
    loadSeconds: (performance.now() - started) / 1000,
  });
  let manifest: ModelManifest;
  try {
    manifestJson = readFileSync(manifestPath, 'utf8');
    const parsed = modelManifestSchema.safeParse(JSON.parse(manifestJson));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return fail(fallbackName, `manifest.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    manifest = parsed.data;
  } catch (err) {
    return fail(fallbackName, `manifest.json: ${errorMessage(err)}`);
  }
  const file = join(dir, manifest.file);
  if (!existsSync(file)) return fail(manifest.name, `model file ${manifest.file} is missing`, manifest);
  try {
    const session = await ort.InferenceSession.create(file, sessionOptions(settings));
    const problem = checkGraphContract(manifest, session);
    if (problem) {
      await session.release();
      return fail(manifest.name, problem, manifest);
    }
    let tokenizer: ClipTokenizer | undefined;
    if (manifest.kind === 'text_encoder') {
      const t = manifest.tokenizer;
      try {
        const vocab = JSON.parse(readFileSync(join(dir, t.vocab), 'utf8')) as Record<string, number>;
        tokenizer = new ClipTokenizer({ vocab, merges: readFileSync(join(dir, t.merges), 'utf8'), maxLength: manifest.maxLength, padToken: t.padToken });
      } catch (err) {
        await session.release();
        return fail(manifest.name, `manifest.json: tokenizer: cannot read ${t.vocab} / ${t.merges}: ${errorMessage(err)}`, manifest);
      }
    }
    return {
      name: manifest.name,
      dir,
      manifest,
      manifestJson,
      session,
      tokenizer,
      available: true,
      reason: '',
      loadSeconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    return fail(manifest.name, `cannot load ${manifest.file}: ${errorMessage(err)}`, manifest);
  }
}

