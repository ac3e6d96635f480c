/**
 * Regenerates the TypeScript types of the wire protocol from proto/ into
 * common/proto/generated. Generated files are committed and never edited;
 * test/unit/proto-generated.test.ts fails when they are stale.
 *
 *   npm run gen:proto            write the types
 *   npx tsx scripts/gen-proto.ts --out DIR   write them elsewhere (used by the staleness test)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_LOADER_OPTIONS } from '../common/proto/options.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag >= 0 ? process.argv[outFlag + 1]! : join(root, 'common/proto/generated');

const protoDir = join(root, 'proto');
const files = readdirSync(join(protoDir, 'propeller/v1'))
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => `propeller/v1/${f}`);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const flags = [
  PROTO_LOADER_OPTIONS.keepCase ? '--keepCase' : '',
  `--longs=${PROTO_LOADER_OPTIONS.longs.name}`,
  `--enums=${PROTO_LOADER_OPTIONS.enums.name}`,
  PROTO_LOADER_OPTIONS.defaults ? '--defaults' : '',
  PROTO_LOADER_OPTIONS.arrays ? '--arrays' : '',
  PROTO_LOADER_OPTIONS.objects ? '--objects' : '',
  PROTO_LOADER_OPTIONS.oneofs ? '--oneofs' : '',
  '--grpcLib=@grpc/grpc-js',
  '--includeComments',
].filter(Boolean);
execFileSync(
  process.execPath,
  [join(root, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js'), ...flags, '-I', protoDir, '-O', outDir, ...files],
  { stdio: 'inherit' },
);

// The generator writes absolute paths into headers; keep the output
// independent of where the checkout lives.
for (const file of walk(outDir)) {
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.split(`${protoDir}/`).join('proto/'));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
