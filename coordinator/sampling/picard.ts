/**
 * Parallel Picard sampling over the denoising steps (ParaDiGMS).
 *
 * The engine keeps a window `[b, e)`, `e = min(b + p, T)`, of trajectory
 * points `x_b .. x_e`, where `x_b` has converged. One round:
 *
 * 1. evaluates the model at every `x_j`, `j in [b, e)`, at once (the calls
 *    run concurrently, so a dispatcher sees p steps x all layout windows as
 *    one batch);
 * 2. recomputes the points from the drifts `d_j = step(x_j) - x_j`:
 *    `x'_{j+1} = x'_j + d_j + c_j z_j`, `x'_b = x_b`, the first one as
 *    `step(x_b) + c_b z_b` itself (so `p = 1` is sequential sampling, bit for bit);
 * 3. measures `r_{j+1} = mean((x'_{j+1} - x_{j+1})^2) / scale_{j+1}`, where
 *    `scale_j` is the posterior variance of step j between the noise levels
 *    of `x_j` and `x_{j+1}` (ParaDiGMS' DDPM variance for VP schedulers; the
 *    same Gaussian formula for flow and VE schedulers, see `picardErrorScales`);
 * 4. slides `b' = b + min(first failing + 1, p)` and initialises the points
 *    entering the window as the policy says.
 *
 * Every round advances at least one step, so the worst case is sequential
 * sampling plus the wasted evaluations.
 *
 * The window may change between rounds (`windowFor`, the elastic sampler):
 * once a round has slid, the engine asks for the next round's window and
 * either initialises more entering points or drops the last ones. The
 * decision is made before the checkpoint, so a resumed run continues with
 * exactly the window and points the interrupted one had. The step noise `z_j` comes from the
 * same deterministic per-step stream as the sequential engine's.
 *
 * Memory: the window's `p + 1` points plus one step output per slot while a
 * round is in flight (`2p + 2` latents at most). Points leaving the window
 * and replaced iterates go back to a pool the next round's step outputs and
 * entering points are taken from, so a round allocates no latents of the
 * engine's own once the pool holds a window's worth (a fresh 256 KiB array
 * costs several times a refill, and its garbage is most of the collector's
 * work).
 */
import type { Scheduler } from './scheduler.ts';
import { addScaledNoise } from './scheduler.ts';
import type { DenoiseFn } from './sequential.ts';
import type { StepNoiseFn } from './step-noise.ts';
import type { PicardPolicy } from './picard-policy.ts';
import { uninitializedFloat32Array } from '../../common/float-buffers.ts';

/** What one round did, for progress events and benches. */
export interface PicardRound {
  /** 1-based round number. */
  round: number;
  begin: number;
  end: number;
  /** Steps the window advanced. */
  stride: number;
  /** Converged steps after this round. */
  converged: number;
  /** Window of this round (`end - begin`, the points evaluated). */
  window: number;
  /** Model evaluations this round (points evaluated, before layout windows). */
  evaluations: number;
  /** Error ratio of each point `b+1 .. e` (`Infinity` where the scale is 0). */
  ratios: number[];
  /** The threshold the ratios were compared with. */
  threshold: number;
}

export interface PicardOptions {
  scheduler: Scheduler;
  denoise: DenoiseFn;
  /** x at step 0, already scaled by `initNoiseSigma`; not modified. */
  initial: Float32Array;
  noise: StepNoiseFn;
  /** Window size p >= 1; with `windowFor`, the largest window it may pick. */
  window: number;
  /**
   * The window of the next round, asked once before the first round of a
   * fresh run and after every round that leaves steps to do (with the step
   * the next round begins at); clamped to `[1, window]`. Absent: always
   * `window`.
   */
  windowFor?: (next: { begin: number; round: number }) => number | Promise<number>;
  policy: PicardPolicy;
  onRound?: (round: PicardRound) => void;
  signal?: AbortSignal;
  /** Continue from a state exported by `onCheckpoint` (same scheduler, seed, window limit, policy and latent). */
  resume?: PicardState;
  /**
   * Called after every round (once the window has slid) with the engine's
   * state. The arrays are the engine's own: valid during the call only.
   */
  onCheckpoint?: (state: PicardState) => void;
  /** Given the x0 and eps arrays `denoise` returned once the engine is done with them (e.g. `CompositeDenoiser.recycle`). */
  recycle?: (arrays: Float32Array[]) => void;
}

/**
 * Everything the Picard engine needs to go on between two rounds: the window
 * `[begin, end)`, its points `x_begin .. x_end` (entering points already
 * initialised), the counters, and the policy's state (the adaptive
 * threshold). Step noise has no state to keep: `z_j` is drawn from its own
 * stream per step, so the step index is the RNG state.
 */
export interface PicardState {
  begin: number;
  end: number;
  /** `end - begin + 1` points; `points[0]` has converged. */
  points: Float32Array[];
  rounds: number;
  evaluations: number;
  policy: number[];
}

export interface PicardResult {
  sample: Float32Array;
  rounds: number;
  /** Points evaluated in total (times the layout windows = model evaluations). */
  evaluations: number;
}

/**
 * Error scale of each point `x_j`, `j = 0..T`: the variance of `x_{j+1}`
 * given `x_j` and `x0` under the Gaussian path of the scheduler's noise
 * levels, `s'^2 / s^2 * (s^2 - (a/a')^2 s'^2)` with `(a, s)` the level of
 * `x_j` and `(a', s')` that of `x_{j+1}`. For VP schedulers this is DDPM's
 * posterior variance, the scale ParaDiGMS uses; it applies unchanged to flow
 * (`a = 1 - t, s = t`) and variance-exploding (`a = 1`) paths. The last point
 * (and a point whose next level is noiseless) gets 0: it converges only by
 * being computed from converged inputs.
 */
export function picardErrorScales(scheduler: Scheduler): Float64Array {
  const n = scheduler.numSteps;
  const scales = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) {
    const { alpha: a, sigma: s } = scheduler.noiseLevel(j);
    const { alpha: a2, sigma: s2 } = scheduler.noiseLevel(j + 1);
    if (s <= 0 || a2 <= 0) continue;
    const v = ((s2 * s2) / (s * s)) * (s * s - ((a / a2) * s2) ** 2);
    scales[j] = Math.max(0, v);
  }
  return scales;
}

/** Runs Picard iteration to the end of the schedule. */
export async function samplePicard(opts: PicardOptions): Promise<PicardResult> {
  const { scheduler, denoise, initial, noise, policy, signal } = opts;
  const T = scheduler.numSteps;
  if (!Number.isInteger(opts.window) || opts.window < 1) throw new RangeError(`window must be an integer >= 1, got ${opts.window}`);
  const limit = Math.min(opts.window, T);
  const n = initial.length;
  const scales = picardErrorScales(scheduler);
  const pick = async (begin: number, round: number): Promise<number> => {
    if (!opts.windowFor) return limit;
    const w = await opts.windowFor({ begin, round });
    return Number.isFinite(w) ? Math.max(1, Math.min(limit, Math.floor(w))) : limit;
  };
  let b = 0;
  let e = 0;
  // points[i] is x_{b+i}, i = 0..e-b.
  let points: Float32Array[];
  let rounds = 0;
  let evaluations = 0;
  const { resume } = opts;
  if (resume) {
    checkResume(resume, T, limit, n);
    b = resume.begin;
    e = resume.end;
    points = resume.points.map((x) => Float32Array.from(x));
    rounds = resume.rounds;
    evaluations = resume.evaluations;
    policy.importState(resume.policy);
  } else {
    e = Math.min(await pick(0, 1), T);
    points = [Float32Array.from(initial)];
    for (let i = 1; i <= e - b; i++) points.push(initialGuess(i, initial, scheduler, policy));
  }
  let z: Float32Array | undefined;
  // Latents the engine made and no longer uses (old iterates, points that left the window).
  const pool: Float32Array[] = [];
  const take = (): Float32Array => pool.pop() ?? uninitializedFloat32Array(n);
  const recycle = (x: Float32Array): void => {
    if (pool.length <= limit + 1) pool.push(x);
  };

  while (b < T) {
    signal?.throwIfAborted();
    const L = e - b;
    // 1. all points of the window at once
    const preds: { x0: Float32Array; eps: Float32Array }[] = new Array(L);
    const steps = await Promise.all(
      Array.from({ length: L }, async (_, i) => {
        // Every point past the converged one may be thrown away: it yields to other jobs' steps.
        const { x0, eps } = await denoise(points[i]!, b + i, signal, i > 0 ? SPECULATIVE : undefined);
        if (x0.length !== n || eps.length !== n) throw new RangeError(`denoise at step ${b + i} returned ${x0.length}/${eps.length} elements, expected ${n}`);
        const out = scheduler.stepDeterministic(b + i, points[i]!, x0, eps, take());
        if (policy.init !== 'copy') preds[i] = { x0, eps };
        else opts.recycle?.([x0, eps]);
        return out;
      }),
    );
    rounds++;
    evaluations += L;

    // 2-3. new points from the drifts, and their errors against the old ones
    let cur = steps[0]!;
    const c0 = scheduler.noiseCoefficient(b);
    if (c0 !== 0) {
      z ??= new Float32Array(n);
      noise(b, z);
      addScaledNoise(cur, c0, z);
    }
    const ratios: number[] = [];
    for (let i = 1; i <= L; i++) {
      const old = points[i]!;
      let sq: number;
      if (i < L) {
        // x'_{j+1} = x'_j + (step(x_j) - x_j) + c_j z_j, written over the step output
        const next = steps[i]!;
        const c = scheduler.noiseCoefficient(b + i);
        if (c !== 0) {
          z ??= new Float32Array(n);
          noise(b + i, z);
        }
        sq = advanceAndMeasure(cur, old, next, c, c !== 0 ? z! : undefined);
        points[i] = cur;
        cur = next;
      } else {
        sq = squaredDistance(cur, old);
        points[i] = cur;
      }
      recycle(old);
      const mse = sq / n;
      const scale = scales[b + i]!;
      ratios.push(mse === 0 ? 0 : scale > 0 ? mse / scale : Infinity);
    }

    // 4. slide past the first failing point
    const threshold = policy.threshold();
    let firstFailing = ratios.findIndex((r) => r > threshold);
    if (firstFailing < 0) firstFailing = L;
    const stride = Math.min(firstFailing + 1, L);
    policy.observe(ratios.filter(Number.isFinite));
    const nb = Math.min(b + stride, T);
    opts.onRound?.({ round: rounds, begin: b, end: e, stride: nb - b, converged: nb, window: L, evaluations: L, ratios, threshold });
    const ne = nb < T ? Math.min(nb + (await pick(nb, rounds + 1)), T) : T;
    const keepTo = Math.min(e, ne) - b + 1;
    const kept = points.slice(nb - b, keepTo); // x_{nb} .. x_{min(e, ne)}
    for (let i = 0; i < nb - b; i++) recycle(points[i]!);
    for (let i = keepTo; i <= L; i++) recycle(points[i]!);
    // Forecasts start from the newest prediction made at a converged point
    // (x_{nb-1} was an input of this round); the prediction at the window's
    // last, least converged point is a much worse basis (measured).
    const basis = preds[Math.min(nb - 1 - b, L - 1)];
    for (let j = e + 1; j <= ne; j++) {
      // A forecast ignores the noise stochastic steps inject; there it measured
      // worse than a copy (bench: ddpm-1000), so stochastic steps copy.
      const copy = policy.init === 'copy' || scheduler.noiseCoefficient(j - 1) !== 0;
      const entering = take();
      if (copy) entering.set(points[L]!);
      else forecast(j, basis!, scheduler, entering);
      kept.push(entering);
    }
    // The predictions are spent (the forecasts above were their last use).
    if (opts.recycle) for (const pred of preds) if (pred) opts.recycle([pred.x0, pred.eps]);
    points = kept;
    b = nb;
    e = ne;
    opts.onCheckpoint?.({ begin: b, end: e, points, rounds, evaluations, policy: policy.exportState() });
  }
  return { sample: points[0]!, rounds, evaluations };
}

/** `sum((a - b)^2)` in float64: the error norm of the window's last point. */
export function squaredDistance(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let sq = 0;
  for (let k = 0; k < n; k++) {
    const d = a[k]! - b[k]!;
    sq += d * d;
  }
  return sq;
}

/**
 * One point of a Picard round in one pass: returns `sum((cur - old)^2)`
 * (the error of `cur`, the new point, against `old`, the previous round's)
 * and writes the next new point over `next` (which holds `step(old)` on
 * entry): `next = cur + (next - old) + c z` (no noise term when `z` is
 * undefined). The same float32 operations, in the same order, as the two
 * separate passes it replaces, so the results are bit for bit the same.
 */
export function advanceAndMeasure(cur: Float32Array, old: Float32Array, next: Float32Array, c: number, z: Float32Array | undefined): number {
  const n = cur.length;
  let sq = 0;
  if (z) {
    for (let k = 0; k < n; k++) {
      const x = cur[k]!;
      const o = old[k]!;
      const d = x - o;
      sq += d * d;
      next[k] = x + (next[k]! - o) + c * z[k]!;
    }
  } else {
    for (let k = 0; k < n; k++) {
      const x = cur[k]!;
      const o = old[k]!;
      const d = x - o;
      sq += d * d;
      next[k] = x + (next[k]! - o);
    }
  }
  return sq;
}

const SPECULATIVE = Object.freeze({ speculative: true });

/** Rejects a resume state that does not fit this run (window limit, schedule, latent size). */
function checkResume(s: PicardState, T: number, limit: number, n: number): void {
  const ok =
    Number.isInteger(s.begin) &&
    Number.isInteger(s.end) &&
    s.begin >= 0 &&
    s.begin <= T &&
    s.end <= Math.min(s.begin + limit, T) &&
    (s.end > s.begin || s.begin === T) &&
    s.points.length === s.end - s.begin + 1 &&
    s.points.every((x) => x.length === n);
  if (!ok) throw new RangeError(`cannot resume Picard window [${s.begin}, ${s.end}) with ${s.points.length} points for ${T} steps, window limit ${limit}, ${n} elements`);
}

/**
 * First guess of point i before any prediction exists: a copy of x_0, or
 * for `forecast` the forecast with a zero x0 prediction, `(sigma_i / sigma_0) x_0`
 * (the noise shrinks along the schedule; a copy keeps it at full scale).
 */
function initialGuess(i: number, initial: Float32Array, scheduler: Scheduler, policy: PicardPolicy): Float32Array {
  const s0 = scheduler.noiseLevel(0).sigma;
  if (policy.init === 'copy' || s0 <= 0 || scheduler.noiseCoefficient(i - 1) !== 0) return Float32Array.from(initial);
  const r = scheduler.noiseLevel(i).sigma / s0;
  // A plain loop: `Float32Array.from` with a map function calls it per element (measured 2 ms per latent).
  const out = new Float32Array(initial.length);
  for (let k = 0; k < out.length; k++) out[k] = initial[k]! * r;
  return out;
}

/** Where step j lands if the model's prediction stays `pred`: `alpha_j x0 + sigma_j eps`. */
function forecast(j: number, pred: { x0: Float32Array; eps: Float32Array }, scheduler: Scheduler, out: Float32Array): Float32Array {
  const newest = pred;
  const { alpha, sigma } = scheduler.noiseLevel(j);
  for (let k = 0; k < out.length; k++) out[k] = alpha * newest.x0[k]! + sigma * newest.eps[k]!;
  return out;
}
