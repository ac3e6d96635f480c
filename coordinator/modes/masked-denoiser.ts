/**
 * Masked sampling: the mechanism behind image_to_video, extend and expand,
 * for any model and any scheduler.
 *
 * Given a known latent `k` and a mask `m` (1 = known) over the job latent
 * (a {@link KnownRegion}), the denoiser the engines see is wrapped so that at
 * every step
 *
 *   x0' = x0 + m (k - x0)     (exactly k where m = 1)
 *
 * and eps stays the model's own prediction, so a step puts the known region
 * at `alpha_{i+1} k + sigma_{i+1} epsHat`: the known latent noised to the
 * next level with the noise the model currently attributes to it. The first
 * version kept the noise the region started with (`eps' = (x - alpha x0')/sigma`,
 * the textbook replacement); the model then saw known and generated parts
 * whose noise disagreed, and the continuation of an extended video jumped:
 * seam ratio 1.30 at the boundary, against 1.00 with the model's eps
 * (test/integration/modes-seams.test.ts). The known region is pasted exactly
 * after the last step (`pasteKnown`). The initial latent's known part is
 * `alpha_0 k + sigma_0 z` with the job's own initial noise z
 * ({@link applyKnownToInitial}).
 *
 * Because the replacement happens inside the denoiser, the sequential and
 * Picard engines run unchanged (to them it is part of the model), and
 * Picard at p = 1 stays bit-identical to sequential. Soft mask values blend
 * x0 linearly (a feather is supported, but the modes use a hard mask: a
 * feather froze the first generated frames onto the last given one).
 */
import type { NoiseLevel } from '../sampling/prediction.ts';
import type { Scheduler } from '../sampling/scheduler.ts';
import type { DenoiseFn } from '../sampling/sequential.ts';
import { checkRegion, visitKnown, type KnownRegion } from './known-region.ts';

/**
 * Wraps `denoise` so its x0 prediction is `k` on the known region (see the
 * file comment). `denoise` must return fresh buffers on each call (the
 * composite denoiser does): they are modified in place.
 */
export function maskedDenoiser(denoise: DenoiseFn, region: KnownRegion, scheduler: Scheduler): DenoiseFn {
  checkRegion(region);
  const { dims } = region;
  const total = dims.channels * dims.frames * dims.height * dims.width;
  return async (sample, step, signal, hints) => {
    const { x0, eps } = await denoise(sample, step, signal, hints);
    if (sample.length !== total || x0.length !== total || eps.length !== total) {
      throw new RangeError(`masked denoiser: sample/x0/eps have ${sample.length}/${x0.length}/${eps.length} elements, the latent ${total}`);
    }
    visitKnown(region, (j, m, k) => {
      const x0j = m === 1 ? k : x0[j]! + m * (k - x0[j]!);
      x0[j] = x0j;

    });
    return { x0, eps };
  };
}

/**
 * Puts the known region into an initial latent in place: where the mask is
 * m, `x += m (alpha_0 k + sigma_0 z - x)` with `z = x / initNoiseSigma` the
 * job's own initial noise. `initial` must be `initNoiseSigma * z`, as the
 * engines take it.
 */
export function applyKnownToInitial(initial: Float32Array, region: KnownRegion, level: NoiseLevel, initNoiseSigma: number): Float32Array {
  checkRegion(region);
  const d = region.dims;
  if (initial.length !== d.channels * d.frames * d.height * d.width) throw new RangeError(`initial latent has ${initial.length} elements, the region's latent ${d.channels * d.frames * d.height * d.width}`);
  if (!(initNoiseSigma > 0)) throw new RangeError(`initNoiseSigma must be > 0, got ${initNoiseSigma}`);
  const { alpha, sigma } = level;
  visitKnown(region, (j, m, k) => {
    const x = initial[j]!;
    const noised = alpha * k + (sigma * x) / initNoiseSigma;
    initial[j] = m === 1 ? noised : x + m * (noised - x);
  });
  return initial;
}
