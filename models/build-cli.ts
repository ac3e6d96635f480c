import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ensureReferenceModels, ensureStandinModels, REFERENCE_MODEL_NAMES, STANDIN_MODEL_NAMES } from './registry.ts';

/**
 * Builds the reference models into a cache directory:
 *   npx tsx models/build-cli.ts [dir]
 * Without `dir`: env PROPELLER_MODEL_CACHE, else <repo>/.cache/models.
 *
 * With `--standins NAME,...` it builds those stand-ins instead (into
 * <repo>/.cache/standins/NAME, or `dir`/NAME) and prints one model directory
 * per line, what `propeller worker --models` takes:
 *   npx tsx models/build-cli.ts --standins tiny-unet3d-s,tiny-dit
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { standins: { type: 'string' } }, allowPositionals: true });
  const arg = positionals[0];
  const t0 = performance.now();
  if (values.standins !== undefined) {
    const names = values.standins.split(',').filter(Boolean);
    const dirs = await (arg === undefined ? ensureStandinModels(names) : ensureStandinModels(names, arg));
    for (const d of dirs) console.log(d);
    console.error(`stand-ins ready in ${Math.round(performance.now() - t0)} ms (known: ${STANDIN_MODEL_NAMES.join(', ')})`);
    return;
  }
  const dir = await (arg === undefined ? ensureReferenceModels() : ensureReferenceModels(arg));
  const ms = Math.round(performance.now() - t0);
  for (const name of REFERENCE_MODEL_NAMES) console.log(`${dir}/${name}`);
  console.log(`reference models ready in ${ms} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
