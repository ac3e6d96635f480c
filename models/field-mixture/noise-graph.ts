import type { TrainSchedule } from '../../common/noise-schedule.ts';
import type { GraphBuilder } from '../onnx-graph.ts';
import { FLOW_T_MAX, FLOW_T_MIN, logSigmas, noiseLevels, type NoiseProcess } from './tables.ts';

/**
 * The first stage of the field-mixture graphs: model timestep [B] -> the
 * forward process's signal and noise scales a, s [B], mirroring
 * `noiseLevelAt` in `tables.ts` (the float64 reference uses that function,
 * so graph and reference agree on (a, s) for every timestep, fractional ones
 * included).
 */

/** Value names of a [B] and s [B]. */
export interface NoiseLevelValues {
  a: string;
  s: string;
}

/** Adds the timestep -> (a, s) nodes for `process` and returns their value names. */
export function noiseLevelGraph(g: GraphBuilder, timestep: string, schedule: TrainSchedule, process: NoiseProcess): NoiseLevelValues {
  return process === 'flow' ? flowLevels(g, timestep, schedule) : vpLevels(g, timestep, schedule);
}

/**
 * VP: log-sigma linearly interpolated over the training sigmas (the inverse
 * of diffusers' `_sigma_to_t`), then a = 1 / sqrt(1 + sigma^2), s = sigma a.
 * At integer timesteps the float32-rounded float64 tables are used instead,
 * so integer timesteps (DDIM, DDPM) see exactly the (a, s) they always did;
 * the two branches agree there to float32 rounding.
 */
function vpLevels(g: GraphBuilder, timestep: string, schedule: TrainSchedule): NoiseLevelValues {
  const T = schedule.numTrainTimesteps;
  const levels = noiseLevels(schedule);
  const ls = logSigmas(schedule);
  // Per-interval slopes rounded once from float64, so ls[i] + w dls[i] needs no float32 difference.
  const dls = Float64Array.from({ length: T - 1 }, (_, i) => ls[i + 1]! - ls[i]!);
  const one = g.floats('vp_one', [1], []);

  const tc = g.op('Clip', [timestep, g.floats('vp_t_min', [0], []), g.floats('vp_t_max', [T - 1], [])]);
  // Integer timesteps: table lookup.
  const tRound = g.op('Round', [tc]);
  const isInteger = g.op('Equal', [tc, tRound]);
  const iRound = g.op('Cast', [tRound], { to: 7 });
  const aTable = g.op('Gather', [g.floats('sqrt_alphas_cumprod', levels.alpha), iRound], { axis: 0 });
  const sTable = g.op('Gather', [g.floats('sqrt_one_minus_alphas_cumprod', levels.sigma), iRound], { axis: 0 });
  // Fractional timesteps: interpolate log sigma on [i, i+1], i = min(floor t, T-2) so t = T-1 stays in range.
  const lower = g.op('Min', [g.op('Floor', [tc]), g.floats('vp_last_interval', [T - 2], [])]);
  const i = g.op('Cast', [lower], { to: 7 });
  const w = g.op('Sub', [tc, lower]); // exact in float32: t and floor(t) share a binade
  const logSigma = g.op('Add', [
    g.op('Gather', [g.floats('log_sigmas', ls), i], { axis: 0 }),
    g.op('Mul', [w, g.op('Gather', [g.floats('log_sigma_steps', dls), i], { axis: 0 })]),
  ]);
  const sigma = g.op('Exp', [logSigma]);
  const aInterp = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [one, g.op('Mul', [sigma, sigma])])])]);
  const sInterp = g.op('Mul', [sigma, aInterp]); // = sqrt(1 - abar) without the cancellation at small t
  return {
    a: g.op('Where', [isInteger, aTable, aInterp]),
    s: g.op('Where', [isInteger, sTable, sInterp]),
  };
}

/**
 * Flow: t = clamp(timestep / T, FLOW_T_MIN, FLOW_T_MAX), a = 1 - t, s = t.
 * The clamp keeps s^2 (divided by in the log-likelihoods) and a away from 0.
 * a is computed as (T - timestep) / T, not 1 - t: T - timestep is exact in
 * float32 near t = 1, while 1 - fl(t) would carry fl(t)'s absolute rounding
 * error (relative 1e-4 at a = 1e-4). So a + s = 1 only to float32 rounding;
 * the output formulas in build.ts do not assume it.
 */
function flowLevels(g: GraphBuilder, timestep: string, schedule: TrainSchedule): NoiseLevelValues {
  const T = g.floats('flow_timestep_scale', [schedule.numTrainTimesteps], []);
  const lo = g.floats('flow_t_min', [FLOW_T_MIN], []);
  const hi = g.floats('flow_t_max', [FLOW_T_MAX], []);
  const s = g.op('Clip', [g.op('Div', [timestep, T]), lo, hi]);
  const a = g.op('Clip', [g.op('Div', [g.op('Sub', [T, timestep]), T]), g.floats('flow_a_min', [1 - FLOW_T_MAX], []), g.floats('flow_a_max', [1 - FLOW_T_MIN], [])]);
  return { a, s };
}
