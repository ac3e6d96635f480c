export {};
/**
 * `npm run bench -- <name> [--json] [options]`: benchmarks that print ratios
 * and measurements taken side by side in one run.
 */
const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  picard: () => import('./picard.ts'),
  'picard-round': () => import('./picard-round.ts'),
  long: () => import('./long.ts'),
  cluster: () => import('./cluster.ts'),
  overhead: () => import('./overhead.ts'),
  compute: () => import('./compute.ts'),
  elastic: () => import('./elastic.ts'),
  previews: () => import('./previews.ts'),
  looks: () => import('./looks.ts'),
};

const [name, ...args] = process.argv.slice(2);
if (!name || !BENCHES[name]) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--json] [options]\n`);
  process.exit(name ? 2 : 0);
}
const mod = await BENCHES[name]!();
await mod.run(args);
