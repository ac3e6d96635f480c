/**
 * Training noise schedules of VP diffusion models (diffusers semantics).
 * Pure functions: the scheduler, the reference models and the tests all
 * compute `alphas_cumprod` from here, so they agree to the last bit.
 */

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';

export interface TrainSchedule {
  numTrainTimesteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
}

/** Stable Diffusion / most latent video models: scaled_linear 0.00085..0.012 over 1000 steps. */
export const DEFAULT_TRAIN_SCHEDULE: TrainSchedule = {
  numTrainTimesteps: 1000,
  betaSchedule: 'scaled_linear',
  betaStart: 0.00085,
  betaEnd: 0.012,
};

/** Betas as float64, like `torch.linspace(..., dtype=float32)` but kept in double precision. */
export function betas(s: TrainSchedule): Float64Array {
  const n = s.numTrainTimesteps;
  const out = new Float64Array(n);
  switch (s.betaSchedule) {
    case 'linear':
      for (let i = 0; i < n; i++) out[i] = s.betaStart + ((s.betaEnd - s.betaStart) * i) / (n - 1);
      return out;
    case 'scaled_linear': {
      const a = Math.sqrt(s.betaStart);
      const b = Math.sqrt(s.betaEnd);
      for (let i = 0; i < n; i++) {
        const r = a + ((b - a) * i) / (n - 1);
        out[i] = r * r;
      }
      return out;
    }
    case 'squaredcos_cap_v2':
      return betasForAlphaBar(n, (t) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2);
  }
}

/** diffusers' `betas_for_alpha_bar` with max_beta 0.999. */
export function betasForAlphaBar(n: number, alphaBar: (t: number) => number, maxBeta = 0.999): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t1 = i / n;
    const t2 = (i + 1) / n;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/** Cumulative products of (1 - beta): abar_t for t = 0..T-1. */
export function alphasCumprod(s: TrainSchedule): Float64Array {
  const b = betas(s);
  const out = new Float64Array(b.length);
  let p = 1;
  for (let i = 0; i < b.length; i++) {
    p *= 1 - b[i]!;
    out[i] = p;
  }
  return out;
}
