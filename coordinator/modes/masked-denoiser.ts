/**
 * Masked sampling: the mechanism behind image_to_video, extend and expand,
 * for any model and any scheduler.
 *
 * Given a known latent `k` and a mask `m` (1 = known) over the job latent
 * (a {@link KnownRegion}), the denoiser the engines see is wrapped so that at
 * every step
 *
 *   x0'  = x0 + m (k - x0)               (exactly k where m = 1)
 *   eps' = (x - alpha_i x0') / sigma_i   (where m > 0)
 *
 * with `(alpha_i, sigma_i)` the level of step i. If the known part of `x_i`
 * is `alpha_i k + sigma_i eps0` ("the known latent noised to the current
 * level"), then eps' = eps0 there, and a deterministic step (DDIM eta = 0,
 * Euler, flow Euler) lands exactly on `alpha_{i+1} k + sigma_{i+1} eps0`:
 * the known region follows its own noising path with the noise it started
 * with. Stochastic steps add their fresh noise on top, which re-noises the
 * known region consistently with the scheduler's marginals. The initial
 * latent's known part is `alpha_0 k + sigma_0 z` with the job's own initial
 * noise z ({@link applyKnownToInitial}).
 *
 * Because the replacement happens inside the denoiser, the sequential and
 * Picard engines run unchanged (to them it is part of the model), and
 * Picard at p = 1 stays bit-identical to sequential. Soft mask values blend
 * x0 linearly: the feather makes generated content meet the input without
 * a hard seam, while m = 1 elements stay exactly known.
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
  return async (sample, step, signal) => {
    const { x0, eps } = await denoise(sample, step, signal);
    if (sample.length !== total || x0.length !== total || eps.length !== total) {
      throw new RangeError(`masked denoiser: sample/x0/eps have ${sample.length}/${x0.length}/${eps.length} elements, the latent ${total}`);
    }
    const { alpha, sigma } = scheduler.noiseLevel(step);
    visitKnown(region, (j, m, k) => {
      const x0j = m === 1 ? k : x0[j]! + m * (k - x0[j]!);
      x0[j] = x0j;
      // Rounded x0 (float32) in the eps formula, as the composite denoiser does.
      eps[j] = (sample[j]! - alpha * x0[j]!) / sigma;
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
