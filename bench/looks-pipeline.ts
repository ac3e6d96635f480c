import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import { readLatent } from '../coordinator/video/latent-file.ts';
import { startBenchCluster } from './bench-cluster.ts';

/**
 * Renders field-mixture jobs through the real pipeline: an embedded cluster
 * (coordinator in this process, worker processes), the job API, windows,
 * blending and the scheduler, with latent output, so the caller decodes the
 * exact latent the mp4 would have been encoded from.
 */

/** What to render; the rest of the job spec is the defaults (DDIM, overlapped windows). */
export interface PipelineRender {
  /** `field-mixture` (VP, DDIM) unless told. */
  model?: string;
  promptSchedule: { fromFrame: number; prompt: string }[];
  frames: number;
  height: number;
  width: number;
  steps: number;
  seed: number;
}

/** A started cluster that renders latents; `close()` stops it. */
export interface LatentRenderer {
  render(r: PipelineRender): Promise<{ shape: number[]; data: Float32Array }>;
  close(): Promise<void>;
}

/** Starts an embedded cluster with `workers` worker processes (one thread each; see bench-cluster.ts). */
export async function startLatentRenderer(workers = 2): Promise<LatentRenderer> {
  const { client, dataDir, close } = await startBenchCluster(workers, 'looks');
  let n = 0;
  return {
    async render(r) {
      const spec: JobSpec = { ...r, model: r.model ?? 'field-mixture', output: { format: 'latent' } };
      const submitted = await client.submit(spec);
      const job = await client.watch(submitted.id, () => undefined);
      if (job.state !== 'SUCCEEDED') throw new Error(`job ${job.id} ended ${job.state}: ${job.error}`);
      const path = join(dataDir, `render-${n++}.latent`);
      await client.download(job.id, path);
      const latent = readLatent(await readFile(path));
      await rm(path, { force: true });
      return latent;
    },
    close,
  };
}
