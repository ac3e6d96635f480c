import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_LOADER_OPTIONS } from './options.ts';
import { withExactSeeds } from './exact-seeds.ts';
import type { ProtoGrpcType as DenoiserProto } from './generated/denoiser.ts';
import type { ProtoGrpcType as JobsProto } from './generated/jobs.ts';

/** Root of the .proto files (the include path). */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../proto');

let cached: { denoiser: DenoiserProto; jobs: JobsProto; packageDefinition: protoLoader.PackageDefinition } | undefined;

/** Loads the wire protocol once per process. */
export function loadProtos(): { denoiser: DenoiserProto; jobs: JobsProto; packageDefinition: protoLoader.PackageDefinition } {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(
    ['propeller/v1/denoiser.proto', 'propeller/v1/jobs.proto'],
    { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] },
  );
  // uint64 seeds of 2^53 and above, exact (exact-seeds.ts).
  withExactSeeds(packageDefinition, protoLoader.loadSync(['propeller/v1/jobs.proto'], { ...PROTO_LOADER_OPTIONS, longs: String, includeDirs: [PROTO_DIR] }));
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown;
  cached = {
    denoiser: loaded as DenoiserProto,
    jobs: loaded as JobsProto,
    packageDefinition,
  };
  return cached;
}
