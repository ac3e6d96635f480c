/**
 * Inference timestep spacings, reproducing diffusers' `set_timesteps`
 * (Table 2 of "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * arXiv:2305.08891) down to numpy's float arithmetic and rounding.
 *
 * Pure functions: every scheduler that spaces discrete timesteps uses them.
 */

/** How inference timesteps are laid over the training timesteps. */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** All spacings, for validation messages. */
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/**
 * numpy's `round` (round half to even). `Math.round` rounds halves up, which
 * differs on e.g. 166.5 (linspace, 7 steps) and 812.5 (trailing, 16 steps).
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Descending model timesteps, as diffusers computes them:
 * - leading:  `arange(n) * (T // n)`, reversed, `+ stepsOffset`
 * - trailing: `round(arange(T, 0, -T / n)) - 1`
 * - linspace: `round(linspace(0, T - 1, n))`, reversed
 *
 * Trailing: numpy's float `arange` sometimes yields n + 1 values (for T = 1000:
 * n = 61, 103, 121, ...), the extra one being `-1` after the shift. Only the
 * first n are kept; they equal numpy's values exactly because the
 * arithmetic below is numpy's (`start + i * ((start + step) - start)`).
 *
 * Callers validate `n` and `T`; this function assumes `1 <= n <= T`.
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  const T = numTrainTimesteps;
  const n = numInferenceSteps;
  const out = new Array<number>(n);
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(T / n);
      for (let i = 0; i < n; i++) out[i] = (n - 1 - i) * ratio + stepsOffset;
      return out;
    }
    case 'trailing': {
      const delta = T + -(T / n) - T;
      for (let i = 0; i < n; i++) out[i] = roundHalfEven(T + i * delta) - 1;
      return out;
    }
    case 'linspace': {
      // np.linspace: i * ((stop - start) / (num - 1)) + start, last value pinned to stop.
      const stop = T - 1;
      const step = n > 1 ? stop / (n - 1) : 0;
      for (let i = 0; i < n; i++) {
        const v = i === n - 1 && n > 1 ? stop : i * step;
        out[n - 1 - i] = roundHalfEven(v);
      }
      return out;
    }
  }
}
