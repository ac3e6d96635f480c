/**
 * Picard window policies: when a point of the window counts as converged,
 * and how points entering the window are initialised.
 *
 * - `paradigms` — the published ParaDiGMS rule: a point is converged while
 *   its error ratio `mse(new - old) / scale <= tol^2`, the window slides past
 *   the first failing point, entering points copy the newest point.
 * - `adaptive` — DreamPropeller: the threshold follows an exponential moving
 *   average (decay 0.9) of the window's mean error ratio, starting at tol^2.
 *   It trades accuracy for fewer rounds when errors stay large.
 * - `forecast` — this project's: the ParaDiGMS acceptance rule, but entering
 *   points are initialised by the scheduler-consistent forecast
 *   `x_k = alpha_k x0Hat + sigma_k epsHat` from the newest prediction made at
 *   a converged point, which is where a deterministic trajectory goes if the
 *   prediction stays put (exact for DDIM with a constant prediction). Copying
 *   the newest point (ParaDiGMS) puts every entering point at the wrong noise
 *   level, so entering points need an extra round before they converge.
 *   Points entering through a stochastic step are copied, as in ParaDiGMS:
 *   a forecast cannot know the injected noise and measured worse there.
 */

export const PICARD_POLICIES = ['paradigms', 'adaptive', 'forecast'] as const;
export type PicardPolicyName = (typeof PICARD_POLICIES)[number];

export interface PicardPolicy {
  readonly name: PicardPolicyName;
  /** Error ratios at or below this count as converged in the coming round. */
  threshold(): number;
  /** Called after every round with the finite error ratios of the window. */
  observe(ratios: readonly number[]): void;
  /** How points entering the window start. */
  readonly init: 'copy' | 'forecast';
  /** The state kept across rounds, for checkpoints (empty for stateless policies). */
  exportState(): number[];
  /** Restores a state from `exportState` of the same policy. */
  importState(state: readonly number[]): void;
}

/** EMA decay of the adaptive threshold (DreamPropeller's 0.9). */
export const ADAPTIVE_DECAY = 0.9;

/** Creates a fresh policy (they keep state across the rounds of one run). */
export function createPicardPolicy(name: PicardPolicyName, tolerance: number): PicardPolicy {
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const tol2 = tolerance * tolerance;
  switch (name) {
    case 'paradigms':
      return { name, init: 'copy', threshold: () => tol2, observe: () => undefined, ...stateless(name) };
    case 'forecast':
      return { name, init: 'forecast', threshold: () => tol2, observe: () => undefined, ...stateless(name) };
    case 'adaptive': {
      let threshold = tol2;
      return {
        name,
        init: 'copy',
        threshold: () => threshold,
        observe: (ratios) => {
          if (ratios.length === 0) return;
          const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
          threshold = ADAPTIVE_DECAY * threshold + (1 - ADAPTIVE_DECAY) * mean;
        },
        exportState: () => [threshold],
        importState: (state) => {
          if (state.length !== 1 || !Number.isFinite(state[0]) || state[0]! < 0) throw new RangeError(`adaptive policy state must be [threshold >= 0], got [${state.join(', ')}]`);
          threshold = state[0]!;
        },
      };
    }
    default:
      throw new RangeError(`unknown Picard policy "${name as string}"; known: ${PICARD_POLICIES.join(', ')}`);
  }
}

/** Checkpoint methods of a policy with no state. */
function stateless(name: PicardPolicyName): Pick<PicardPolicy, 'exportState' | 'importState'> {
  return {
    exportState: () => [],
    importState: (state) => {
      if (state.length !== 0) throw new RangeError(`policy ${name} keeps no state, got [${state.join(', ')}]`);
    },
  };
}
