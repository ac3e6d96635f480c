import { alphasCumprod, type TrainSchedule } from '../../common/noise-schedule.ts';
import { FIELD_WINDOW, type FieldComponent, type FieldWindow } from './components.ts';
import { fieldEigenvalues, toHalfGrid } from './spectrum.ts';

/**
 * Noise levels and spectral tables baked into the field-mixture graphs,
 * computed in float64 here so the float32 graph only looks them up, and
 * shared with the float64 reference so both use the same `(a, s)` for any
 * timestep.
 */

/**
 * Training noise schedule of the field-mixture models: Stable Diffusion's
 * scaled_linear betas from the same start (so abar_0, the level DDIM stops
 * at, is SD's) to a larger end, 0.04 instead of 0.012, so the last steps
 * reach (almost) zero signal. With SD's end, abar = 0.0073 at t = 961 (where
 * 25-step DDIM starts) and a^2 (mu^2 N + lambda_max) is ~10^3 for these
 * components: the window means and the large structures of x_T are far from
 * the N(0, I) every sampler starts from, and samples come out grey and
 * fine-grained (the "terminal SNR" flaw of SD's schedule, Lin et al. 2023).
 * Here abar_961 = 6.5e-7 and that product stays below 0.25.
 */
export const FIELD_TRAIN_SCHEDULE: TrainSchedule = {
  numTrainTimesteps: 1000,
  betaSchedule: 'scaled_linear',
  betaStart: 0.00085,
  betaEnd: 0.04,
};

/**
 * Forward process of a field-mixture model:
 * - `'vp'`: `x_t = a x0 + s eps`, `a = sqrt(abar_t)`, `s = sqrt(1 - abar_t)`, timestep in
 *   [0, T-1] (fractional allowed, see `noiseLevelAt`), output epsilon;
 * - `'flow'`: rectified flow `x_t = (1 - t) x0 + t eps`, model timestep `T t` (SD3
 *   convention, T = numTrainTimesteps = 1000), output the velocity `eps - x0`.
 */
export type NoiseProcess = 'vp' | 'flow';

/**
 * Flow time is clamped to [FLOW_T_MIN, FLOW_T_MAX] (graph and reference alike):
 * at t = 0 the noise variance s^2 vanishes and the log-likelihoods divide by it,
 * at t = 1 the signal vanishes; 1e-4 keeps both finite in float32 while
 * changing no sampler's result measurably (flow schedulers stop at t = 0 by
 * taking the model's x0, and start at t = 1 from pure noise).
 */
export const FLOW_T_MIN = 1e-4;
export const FLOW_T_MAX = 1 - 1e-4;

/** `x_t = alpha x0 + sigma eps`. */
export interface NoiseLevel {
  alpha: number;
  sigma: number;
}

/** Signal and noise scales of the VP forward process x_t = a x0 + s eps, per training timestep. */
export interface NoiseLevels {
  /** a_t = sqrt(abar_t). */
  alpha: Float64Array;
  /** s_t = sqrt(1 - abar_t), from float64 abar (1 - abar in float32 would lose digits near t = 0). */
  sigma: Float64Array;
}

/** `a_t` and `s_t` for every training timestep of `schedule`. */
export function noiseLevels(schedule: TrainSchedule): NoiseLevels {
  const abar = alphasCumprod(schedule);
  const alpha = new Float64Array(abar.length);
  const sigma = new Float64Array(abar.length);
  for (let t = 0; t < abar.length; t++) {
    alpha[t] = Math.sqrt(abar[t]!);
    sigma[t] = Math.sqrt(1 - abar[t]!);
  }
  return { alpha, sigma };
}

/**
 * log of the training sigmas `sigma_t = sqrt((1 - abar_t) / abar_t)` (the
 * Karras / k-diffusion sigmas), t = 0..T-1: the grid over which diffusers'
 * `_sigma_to_t` interpolates, so fractional timesteps are defined on it.
 */
export function logSigmas(schedule: TrainSchedule): Float64Array {
  const abar = alphasCumprod(schedule);
  return abar.map((ab) => 0.5 * Math.log((1 - ab) / ab));
}

/**
 * Noise level at a (possibly fractional) model timestep.
 *
 * VP: the exact inverse of diffusers' `_sigma_to_t` (used by the Euler /
 * Karras scheduler): with t clamped to [0, T-1], `i = floor t` (at most T-2),
 * `w = t - i`, `log sigma = (1 - w) logSigma[i] + w logSigma[i+1]`, then
 * `abar = 1 / (1 + sigma^2)`, `alpha = sqrt(abar)`, `sigma_vp = sigma alpha`
 * (= sqrt(1 - abar) without the cancellation). At integer t it returns the
 * table values `sqrt(abar_t)`, `sqrt(1 - abar_t)` exactly, as the graph does.
 *
 * Flow: `t = clamp(timestep / T, FLOW_T_MIN, FLOW_T_MAX)`, `alpha = 1 - t`, `sigma = t`.
 */
export function noiseLevelAt(schedule: TrainSchedule, timestep: number, process: NoiseProcess = 'vp'): NoiseLevel {
  if (!Number.isFinite(timestep)) throw new RangeError(`timestep must be finite, got ${timestep}`);
  const T = schedule.numTrainTimesteps;
  if (process === 'flow') {
    const t = Math.min(FLOW_T_MAX, Math.max(FLOW_T_MIN, timestep / T));
    return { alpha: 1 - t, sigma: t };
  }
  const t = Math.min(T - 1, Math.max(0, timestep));
  if (Number.isInteger(t)) {
    const abar = alphasCumprod(schedule)[t]!;
    return { alpha: Math.sqrt(abar), sigma: Math.sqrt(1 - abar) };
  }
  const ls = logSigmas(schedule);
  const i = Math.min(Math.floor(t), T - 2);
  const w = t - i;
  const sigma = Math.exp((1 - w) * ls[i]! + w * ls[i + 1]!);
  const alpha = 1 / Math.sqrt(1 + sigma * sigma);
  return { alpha, sigma: sigma * alpha };
}

/** Eigenvalues of every component on the half grid, laid out [K, C, F, H, W/2+1]. */
export function halfGridEigenvalues(components: readonly FieldComponent[], win: FieldWindow = FIELD_WINDOW): Float64Array {
  const parts = components.map((c) => toHalfGrid(fieldEigenvalues(c, win), win));
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
