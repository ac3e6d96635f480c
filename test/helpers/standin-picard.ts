/**
 * The comparison every stand-in end-to-end test makes: one job sampled
 * sequentially and with Picard through a {@link StandinCluster}, the two
 * latents close.
 */
import assert from 'node:assert/strict';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { relL2, type StandinCluster } from './standin-cluster.ts';

export type SamplerChoice = 'sequential' | 'picard';

/** A job's sampler field: sequential, or Picard over `window` steps with tolerance 0.002. */
export function samplerSpec(sampler: SamplerChoice, window: number): JobSpec['sampler'] {
  return sampler === 'picard' ? { kind: 'picard', window, tolerance: 0.002 } : { kind: 'sequential' };
}

/**
 * Runs `job('sequential')` and `job('picard')`; asserts both succeed, both
 * latents are finite, the sequential one has `shape`, and Picard's is within
 * relL2 0.05 of it. Returns both jobs and the sequential latent.
 */
export async function picardMatchesSequential(
  cluster: StandinCluster,
  job: (sampler: SamplerChoice) => JobSpec,
  shape: readonly number[],
): Promise<{ seq: Job__Output; pic: Job__Output; latent: { shape: number[]; data: Float32Array } }> {
  const seq = await cluster.run(job('sequential'));
  assert.equal(seq.state, 'SUCCEEDED', seq.error);
  const pic = await cluster.run(job('picard'));
  assert.equal(pic.state, 'SUCCEEDED', pic.error);
  const a = await cluster.latent(seq.id);
  const b = await cluster.latent(pic.id);
  assert.deepEqual(a.shape, shape);
  assert.ok(a.data.every(Number.isFinite) && b.data.every(Number.isFinite));
  const d = relL2(b.data, a.data);
  assert.ok(d < 0.05, `Picard vs sequential relL2 ${d}`);
  return { seq, pic, latent: a };
}
