import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureReferenceModels, ensureStandinModels, REFERENCE_MODEL_NAMES, STANDIN_MODEL_NAMES } from '../models/registry.ts';
import { parse, type CliEnv } from './args.ts';

export const MODELS_BUILD_HELP = `propeller models build [--standins NAME,...] [--dir DIR]
  Builds the reference models (into --dir, else $PROPELLER_MODEL_DIR, else .cache/models) or, with
  --standins, the named random-weight stand-ins (into DIR/NAME, else .cache/standins/NAME), and prints
  one model directory per line: what --models of 'worker' and 'up' takes (join them with commas).
  Models already built and current are kept. Stand-ins: ${STANDIN_MODEL_NAMES.join(', ')}.`;

/**
 * `propeller models build`: builds models on this machine. Directories go to
 * stdout, one per line, so a shell can collect them:
 *   models=$(npx propeller models build --standins tiny-unet3d-s,tiny-clip-text | paste -sd, -)
 */
export async function runModelsBuild(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parse(args, { standins: { type: 'string' }, dir: { type: 'string' } }, true);
  if (values.help) {
    process.stdout.write(MODELS_BUILD_HELP + '\n');
    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(`propeller models build: unexpected argument "${positionals[0]}"\n${MODELS_BUILD_HELP}\n`);
    return 2;
  }
  const dir = values.dir as string | undefined;
  const t0 = performance.now();
  let dirs: string[];
  if (values.standins !== undefined) {
    const names = String(values.standins).split(',').map((n) => n.trim()).filter(Boolean);
    if (names.length === 0) {
      process.stderr.write(`propeller models build: --standins needs at least one name (${STANDIN_MODEL_NAMES.join(', ')})\n`);
      return 2;
    }
    dirs = await (dir === undefined ? ensureStandinModels(names) : ensureStandinModels(names, dir));
  } else {
    const root = await ensureReferenceModels(dir ?? env.modelDir);
    dirs = REFERENCE_MODEL_NAMES.map((name) => join(root, name));
  }
  for (const d of dirs) process.stdout.write(d + '\n');
  process.stderr.write(`${dirs.length} model${dirs.length === 1 ? '' : 's'} ready in ${Math.round(performance.now() - t0)} ms\n`);
  return 0;
}
