/**
 * Sigma schedules of the variance-exploding form `x = x0 + sigma eps` used
 * by Euler (Karras et al., "Elucidating the Design Space of Diffusion-Based
 * Generative Models", arXiv:2206.00364), reproducing diffusers'
 * `EulerDiscreteScheduler.set_timesteps` helpers in float64.
 *
 * Pure functions over plain arrays; diffusers computes the same in float32
 * (sigmas) and numpy float64 (interpolation), so values agree to float32
 * precision, not bit for bit.
 */

/** Training sigmas `sqrt((1 - abar_t) / abar_t)`, t = 0..T-1 (increasing in t). */
export function trainingSigmas(alphasCumprod: ArrayLike<number>): Float64Array {
  const out = new Float64Array(alphasCumprod.length);
  for (let t = 0; t < out.length; t++) {
    const a = alphasCumprod[t]!;
    out[t] = Math.sqrt((1 - a) / a);
  }
  return out;
}

/**
 * `np.linspace(0, T - 1, n)[::-1]` without rounding (Euler's linspace
 * spacing keeps fractional timesteps, unlike DDIM/DDPM's): descending,
 * first `T - 1`, last 0; a single step is `[0]`, as numpy gives.
 */
export function linspaceTimesteps(numTrainTimesteps: number, n: number): number[] {
  const stop = numTrainTimesteps - 1;
  const step = n > 1 ? stop / (n - 1) : 0;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[n - 1 - i] = i === n - 1 && n > 1 ? stop : i * step;
  return out;
}

/**
 * `np.interp(t, arange(len(values)), values)`: piecewise-linear in t,
 * clamped to the end values outside `[0, len - 1]`.
 */
export function interpAtTimestep(values: ArrayLike<number>, t: number): number {
  const last = values.length - 1;
  if (t <= 0) return values[0]!;
  if (t >= last) return values[last]!;
  const j = Math.floor(t);
  const lo = values[j]!;
  if (t === j) return lo;
  return (values[j + 1]! - lo) * (t - j) + lo;
}

/**
 * diffusers' `_sigma_to_t`: the (fractional) training timestep of `sigma`,
 * by linear interpolation of log-sigma between the two training sigmas that
 * bracket it. `logSigmas` = log of {@link trainingSigmas} (increasing).
 *
 * numpy's form is kept: `low_idx` = argmax of the running count of
 * `log_sigma >= log_sigmas[j]` (the last bracketing index, 0 when none),
 * clipped to `T - 2`; the weight is clipped to [0, 1], so sigmas outside the
 * training range map to 0 or T - 1.
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const T = logSigmas.length;
  if (T < 2) throw new RangeError(`sigmaToT needs at least 2 training sigmas, got ${T}`);
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // np.cumsum(dists >= 0).argmax(): first index where the running count peaks
  let count = 0;
  let best = 0;
  let lowIdx = 0;
  for (let j = 0; j < T; j++) {
    if (logSigma - logSigmas[j]! >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = j;
    }
  }
  lowIdx = Math.min(lowIdx, T - 2);
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[lowIdx + 1]!;
  const w = Math.min(Math.max((low - logSigma) / (low - high), 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/**
 * Karras et al.'s schedule (their eq. (5), rho = 7), descending from
 * `sigmaMax` to `sigmaMin` in `n` points:
 * `(max^(1/rho) + k/(n-1) (min^(1/rho) - max^(1/rho)))^rho`. A single point
 * is `[sigmaMax]` (numpy's `linspace(0, 1, 1) = [0]`).
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    // np.linspace(0, 1, n): k * (1 / (n - 1)), last pinned to 1
    const ramp = n > 1 ? (k === n - 1 ? 1 : k * (1 / (n - 1))) : 0;
    out[k] = (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho;
  }
  return out;
}
