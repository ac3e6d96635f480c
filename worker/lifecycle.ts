import type { Logger } from '../common/logger.ts';

/**
 * The worker's lifecycle as an explicit state machine with one logged
 * setter. Illegal transitions throw, so a bug shows up at the transition
 * and not as a half-shut-down server later.
 */
export type WorkerState = 'starting' | 'serving' | 'draining' | 'stopped' | 'failed';

const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['serving', 'failed', 'stopped'],
  serving: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopped'],
};

export class WorkerLifecycle {
  private current: WorkerState = 'starting';
  private readonly listeners = new Set<(s: WorkerState) => void>();

  constructor(private readonly log: Logger) {}

  get state(): WorkerState {
    return this.current;
  }

  /** Moves to `next`; throws on an illegal transition. */
  set(next: WorkerState, reason?: string): void {
    if (!ALLOWED[this.current].includes(next)) {
      throw new Error(`illegal worker state transition ${this.current} -> ${next}`);
    }
    this.log.info(`state ${this.current} -> ${next}`, reason ? { reason } : undefined);
    this.current = next;
    for (const l of this.listeners) l(next);
  }

  onChange(listener: (s: WorkerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
