import { ResourceExhaustedError } from '../../common/errors.ts';
import { formatBytes } from './memory-estimate.ts';

/**
 * The coordinator's memory budget for running jobs (`memoryBudgetBytes`).
 * Each job reserves its estimate (memory-estimate.ts) before it samples and
 * gives it back when sampling ends; a job that does not fit next to the
 * running ones waits, in order, rather than running the process out of
 * memory. Submit refuses a job whose estimate exceeds the whole budget.
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; resolve: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isFinite(capacity) || capacity <= 0) throw new RangeError(`memory budget must be a positive number of bytes, got ${capacity}`);
  }

  /** RESOURCE_EXHAUSTED when a job of `bytes` could never run here. */
  check(bytes: number, what: string): void {
    if (bytes > this.capacity) {
      throw new ResourceExhaustedError(`${what} needs about ${formatBytes(bytes)} of coordinator memory; this coordinator's budget for jobs is ${formatBytes(this.capacity)} (memoryBudgetBytes, --memory-budget-mb): ask for fewer frames, a smaller size or a smaller Picard window`);
    }
  }

  /**
   * Waits (in order) until `bytes` fit next to the running jobs and takes
   * them; resolves with the release. Rejects at once when they never can, and
   * with the signal's reason when it aborts first.
   */
  async reserve(bytes: number, what: string, signal?: AbortSignal): Promise<() => void> {
    this.check(bytes, what);
    signal?.throwIfAborted();
    if (this.waiting.length > 0 || this.used + bytes > this.capacity) {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          bytes,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          this.wake();
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    } else this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.wake();
    };
  }

  /** Bytes reserved now, and jobs waiting for room. */
  get load(): { used: number; waiting: number } {
    return { used: this.used, waiting: this.waiting.length };
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.resolve();
    }
  }
}
