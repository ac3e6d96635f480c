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
 * Harmonisation. The model sees the known region only through its noisy
 * sample, so the generated part's prediction is E[x0_gen | x_t], not the
 * E[x0_gen | x_t_gen, x0_known = k] that conditional sampling needs: near
 * the boundary the generated content ignored the detail the noise hid, and
 * an ocean expanded to twice its width (swell 11 latent px wide) kept a seam
 * ratio of 1.37-1.49 at the original region's sides, in every channel, with
 * any window overlap; only more steps shrank it (10: 1.86, 50: 1.24, 100:
 * 1.15). Before the prediction the engine gets, the known part of the
 * sample is corrected {@link HARMONISE_EVALUATIONS} - 1 times,
 *
 *   x_known += omega * alpha (k - x0Hat_known(x)),
 *
 * a relaxed fixed-point iteration towards the sample whose posterior mean on
 * the known region is k. For a Gaussian prior the posterior mean of the
 * generated part there is exactly E[x0_gen | x_t_gen, x0_known = k]
 * (conditioning the posterior on x0_known = k adds
 * Sigma_gk Sigma_kk^-1 (k - x0Hat_known), which is then 0); the iteration
 * contracts by |1 - omega alpha^2 lambda / (alpha^2 lambda + sigma^2)| per
 * mode of prior variance lambda, and each step starts where the previous one
 * ended (DDIM lands the known region on alpha k + sigma epsHat). Only the
 * known part of the sample moves, so the generated part's eps stays
 * consistent with the engine's sample; on the known region, schedulers whose
 * step reads the sample through eps (Euler, flow Euler) get eps shifted so
 * the engine's step lands where a step from the corrected sample would
 * (without it Euler's known region drifted off k: expand seam 5.5). Measured on that ocean (seeds 4-7, 20 DDIM steps): 1
 * evaluation per step 1.37-1.49, 3: 1.05-1.13 (seeds 4-5), 4: 1.02-1.10; relaxation 1.9
 * against 1 saves about two evaluations (test/integration/modes-seams.test.ts).
 * RePaint-style resampling (re-noising a step and taking it again) was
 * measured too: 5 evaluations per step left 1.20-1.29.
 *
 * Because the replacement happens inside the denoiser, the sequential and
 * Picard engines run unchanged (to them it is part of the model), and
 * Picard at p = 1 stays bit-identical to sequential. Soft mask values blend
 * x0 linearly and are not corrected (a feather is supported, but the modes
 * use a hard mask: a feather froze the first generated frames onto the last
 * given one, and expand's feather columns onto the edge column).
 */
import type { NoiseLevel } from '../sampling/prediction.ts';
import type { Scheduler } from '../sampling/scheduler.ts';
import type { DenoiseFn } from '../sampling/sequential.ts';
import { checkRegion, visitKnown, type KnownRegion } from './known-region.ts';

/**
 * Model evaluations per step in the masked modes: this many minus one
 * corrections of the known region's sample, then the prediction the engine
 * gets (see the file comment). A masked job costs this many times a
 * text_to_video job of its size.
 */
export const HARMONISE_EVALUATIONS = 4;

/**
 * Over-relaxation omega of each correction, in (0, 2): below 2 the iteration
 * converges for any Gaussian prior, and the slowest (noisiest) modes move
 * omega times further per evaluation.
 */
export const HARMONISE_RELAXATION = 1.9;

/** How hard {@link maskedDenoiser} harmonises; the defaults are the constants above. */
export interface HarmoniseOptions {
  /** Model evaluations per step, an integer >= 1 (1: no correction). */
  evaluations?: number;
  /** omega, in (0, 2). */
  relaxation?: number;
}

/**
 * Wraps `denoise` so its x0 prediction is `k` on the known region (see the
 * file comment). `denoise` must return fresh buffers on each call (the
 * composite denoiser does): they are modified in place.
 */
export function maskedDenoiser(denoise: DenoiseFn, region: KnownRegion, scheduler: Scheduler, opts: HarmoniseOptions = {}): DenoiseFn {
  checkRegion(region);
  const evaluations = opts.evaluations ?? HARMONISE_EVALUATIONS;
  const omega = opts.relaxation ?? HARMONISE_RELAXATION;
  if (!Number.isInteger(evaluations) || evaluations < 1) throw new RangeError(`harmonise evaluations must be an integer >= 1, got ${evaluations}`);
  if (!(omega > 0 && omega < 2)) throw new RangeError(`harmonise relaxation must be in (0, 2), got ${omega}`);
  const { dims } = region;
  const total = dims.channels * dims.frames * dims.height * dims.width;
  const evaluate: DenoiseFn = async (sample, step, signal, hints) => {
    const out = await denoise(sample, step, signal, hints);
    if (sample.length !== total || out.x0.length !== total || out.eps.length !== total) {
      throw new RangeError(`masked denoiser: sample/x0/eps have ${sample.length}/${out.x0.length}/${out.eps.length} elements, the latent ${total}`);
    }
    return out;
  };
  return async (sample, step, signal, hints) => {
    let x = sample;
    if (evaluations > 1) {
      // A copy: the engine's sample stays as it is (its known part is stepped from x0 = k).
      x = Float32Array.from(sample);
      const gain = omega * scheduler.noiseLevel(step).alpha;
      for (let e = 1; e < evaluations; e++) {
        const { x0 } = await evaluate(x, step, signal, hints);
        visitKnown(region, (j, m, k) => {
          if (m === 1) x[j] = x[j]! + gain * (k - x0[j]!);
        });
      }
    }
    const { x0, eps } = await evaluate(x, step, signal, hints);
    // The engine steps its own sample: where the step reads the sample through
    // eps too (Euler, flow Euler), shift eps so it lands where a step from the
    // corrected sample would.
    const { a, c } = x === sample ? { a: 0, c: 0 } : stepCoefficients(scheduler, step);
    const shift = a !== 0 && c !== 0 ? a / c : 0;
    visitKnown(region, (j, m, k) => {
      x0[j] = m === 1 ? k : x0[j]! + m * (k - x0[j]!);
      if (m === 1 && shift !== 0) eps[j] = eps[j]! + shift * (x[j]! - sample[j]!);
    });
    return { x0, eps };
  };
}

/**
 * The coefficients `a` of the sample and `c` of eps in step `i`'s
 * deterministic part, `a x + b x0 + c eps`: every scheduler's step is
 * elementwise and affine in the three (scheduler.ts).
 */
function stepCoefficients(scheduler: Scheduler, i: number): { a: number; c: number } {
  const at = (x: number, eps: number) => scheduler.stepDeterministic(i, Float32Array.of(x), Float32Array.of(0), Float32Array.of(eps))[0]!;
  return { a: at(1, 0), c: at(0, 1) };
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
