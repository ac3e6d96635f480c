/**
 * Exact denoisers for known data distributions, the models of the sampling
 * unit tests: each returns the posterior mean `x0Hat = E[x0 | x_i]` at the
 * scheduler's noise level `x_i = alpha x0 + sigma eps`, and
 * `epsHat = (x_i - alpha x0Hat) / sigma`, in fresh buffers each call (as the
 * composite denoiser does).
 */
import type { Scheduler } from '../../coordinator/sampling/scheduler.ts';
import type { DenoiseFn } from '../../coordinator/sampling/sequential.ts';

/**
 * Gaussian data `x0 ~ N(mean, variance)` per element (`mean` one number, or
 * one per element): `x0Hat = m + gain (x - alpha m)` with
 * `gain = alpha v / (alpha^2 v + sigma^2)`. Affine in x.
 */
export function gaussianDenoiser(scheduler: Scheduler, mean: number | Float32Array, variance: number): DenoiseFn {
  const v = variance;
  const meanAt = typeof mean === 'number' ? () => mean : (k: number) => mean[k]!;
  return async (x, i) => {
    const { alpha: a, sigma: s } = scheduler.noiseLevel(i);
    const gain = (a * v) / (a * a * v + s * s);
    const x0 = new Float32Array(x.length);
    const eps = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const m = meanAt(k);
      x0[k] = m + gain * (x[k]! - a * m);
      eps[k] = (x[k]! - a * x0[k]!) / s;
    }
    return { x0, eps };
  };
}

/**
 * An equal-weight two-component Gaussian mixture per element (means -1 and
 * 1.5, variance 0.3): the posterior mean is not affine in x, so Picard
 * iteration has real work to do.
 */
export function mixtureDenoiser(scheduler: Scheduler): DenoiseFn {
  const mus = [-1, 1.5];
  const v = 0.3;
  return async (x, i) => {
    const { alpha: a, sigma: s } = scheduler.noiseLevel(i);
    const total = a * a * v + s * s;
    const x0 = new Float32Array(x.length);
    const eps = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      // Component weights, shifted by the largest log-weight so exp() cannot overflow.
      const logs = mus.map((m) => -((x[k]! - a * m) ** 2) / (2 * total));
      const maxLog = Math.max(...logs);
      let num = 0;
      let den = 0;
      mus.forEach((m, j) => {
        const w = Math.exp(logs[j]! - maxLog);
        num += w * (m + ((a * v) / total) * (x[k]! - a * m));
        den += w;
      });
      x0[k] = num / den;
      eps[k] = (x[k]! - a * x0[k]!) / s;
    }
    return { x0, eps };
  };
}
