import { performance } from 'node:perf_hooks';
import { ensureReferenceModels, REFERENCE_MODEL_NAMES } from './registry.ts';

/**
 * Builds the reference models into a cache directory:
 *   npx tsx models/build-cli.ts [dir]
 * Without `dir`: env PROPELLER_MODEL_CACHE, else <repo>/.cache/models.
 */
async function main(): Promise<void> {
  const arg = process.argv[2];
  const t0 = performance.now();
  const dir = await (arg === undefined ? ensureReferenceModels() : ensureReferenceModels(arg));
  const ms = Math.round(performance.now() - t0);
  for (const name of REFERENCE_MODEL_NAMES) console.log(`${dir}/${name}`);
  console.log(`reference models ready in ${ms} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
