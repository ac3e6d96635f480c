import { after, before } from 'node:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { Rng } from '../../common/rng.ts';
import { encodeTensor } from '../../common/tensor-codec.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import { ensureStandinModels } from '../../models/registry.ts';
import { referenceModelDir } from './servers.ts';

export { relL2 } from '../../common/rel-l2.ts';

/** `extraDirs`: more model directories to serve (e.g. a test's variant of a stand-in); `coordinatorArgs`: more flags for the coordinator. */
interface StandinOptions {
  workers?: number;
  extraDirs?: readonly string[];
  coordinatorArgs?: readonly string[];
}

/**
 * A real-process cluster serving stand-in models: two worker processes
 * (reference models for the VAE, plus the named stand-ins) and a
 * coordinator, for the stand-in end-to-end tests.
 */
export class StandinCluster {
  private readonly children: ChildServer[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'propeller-standin-'));
  client!: JobClient;

  /** Starts a cluster serving `models` (see StandinOptions). */
  static async start(models: readonly string[], opts: StandinOptions = {}): Promise<StandinCluster> {
    const c = new StandinCluster();
    await c.launch(models, opts);
    return c;
  }

  /** A cluster of `models` for a whole test file: started in a `before` hook, stopped in an `after` hook. */
  static forFile(models: readonly string[]): StandinCluster {
    const c = new StandinCluster();
    before(() => c.launch(models, {}));
    after(() => c.stop());
    return c;
  }

  private async launch(models: readonly string[], opts: StandinOptions): Promise<void> {
    const { workers = 2, extraDirs = [], coordinatorArgs = [] } = opts;
    const dirs = [await referenceModelDir(), ...(await ensureStandinModels(models)), ...extraDirs].join(',');
    const env = { PROPELLER_LOG_LEVEL: 'warn' };
    try {
      const ws = await Promise.all(Array.from({ length: workers }, (_, i) => spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', dirs, '--id', `standin-${i}`], { env })));
      this.children.push(...ws);
      const coordinator = await spawnCliServer(['coordinator', '--listen', '127.0.0.1:0', '--workers', ws.map((w) => w.address).join(','), '--data-dir', join(this.dir, 'data'), ...coordinatorArgs], { env });
      this.children.push(coordinator);
      this.client = new JobClient(coordinator.address);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Submits `spec`, waits for the end, and returns the job (asserting nothing). */
  async run(spec: JobSpec): Promise<Job__Output> {
    const job = await this.client.submit(spec);
    return this.client.watch(job.id, () => undefined);
  }

  /** Downloads a latent-output job's latent. */
  async latent(id: string): Promise<{ shape: number[]; data: Float32Array }> {
    const path = join(this.dir, `${id}.latent`);
    await this.client.download(id, path);
    return readLatent(readFileSync(path));
  }

  async stop(): Promise<void> {
    this.client?.close();
    await Promise.all(this.children.map((c) => c.stop(5_000)));
  }
}

/** Seeded standard normals as a wire tensor (uploaded embeddings in tests). */
export function randomTensor(seed: number, shape: readonly number[], scale = 1): ReturnType<typeof encodeTensor> {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Rng(seed, 77).fillNormal(new Float32Array(n));
  for (let i = 0; i < n; i++) data[i]! *= scale;
  return encodeTensor(data, shape, 'float32');
}

