/**
 * The cluster the end-to-end benchmarks render on: an embedded coordinator
 * in this process with worker processes of one thread each on the reference
 * models, quiet logs, outputs in a fresh temporary directory, and a client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedCluster, type EmbeddedCluster } from '../cli/embedded.ts';
import { JobClient } from '../cli/job-client.ts';
import { createLogger } from '../common/logger.ts';
import { ensureReferenceModels } from '../models/registry.ts';

/** A started benchmark cluster; `close()` stops it and removes its directory. */
export interface BenchCluster {
  readonly cluster: EmbeddedCluster;
  readonly client: JobClient;
  /** Where the coordinator writes outputs; benchmarks may put their files here too. */
  readonly dataDir: string;
  close(): Promise<void>;
}

/** Starts `workers` single-thread workers and a coordinator; `name` tags the temporary directory. */
export async function startBenchCluster(workers: number, name: string): Promise<BenchCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), `propeller-bench-${name}-`));
  const cluster = await startEmbeddedCluster({
    workers,
    modelDir: await ensureReferenceModels(),
    listen: '127.0.0.1:0',
    dataDir,
    threadsPerWorker: 1,
    log: createLogger('coordinator', { level: 'warn' }),
    workerLogLevel: 'warn',
  });
  const client = new JobClient(cluster.address);
  return {
    cluster,
    client,
    dataDir,
    async close() {
      client.close();
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
