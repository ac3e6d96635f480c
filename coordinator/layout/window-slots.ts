/**
 * A job's budget of windows out at once (cut out of the latent, on the wire
 * or on a GPU, not yet merged), shared by all its concurrent denoise calls.
 *
 * A Picard round runs `p` denoise calls at once; bounded per call, a window
 * of 16 points over a long video had `16 x 256` windows cut out and
 * encoded at a time (about 1.6 GB for native windows) where a few hundred
 * keep every GPU busy. Waiters are served in order, so the converged point's
 * call (the first of a round) gets its windows out first.
 */
export class WindowSlots {
  private free: number;
  private readonly waiting: { count: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window slots must be a positive integer, got ${capacity}`);
    this.free = capacity;
  }

  /** Takes `count` slots now if they are free and nobody waits before; false otherwise. */
  tryAcquire(count: number): boolean {
    this.check(count);
    if (this.waiting.length > 0 || this.free < count) return false;
    this.free -= count;
    return true;
  }

  /** Waits (in order) for `count` slots. */
  acquire(count: number, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(count)) return Promise.resolve();
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        count,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
        this.wake();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  release(count: number): void {
    this.free = Math.min(this.capacity, this.free + count);
    this.wake();
  }

  /** Slots taken now (for tests). */
  get inUse(): number {
    return this.capacity - this.free;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.free >= this.waiting[0]!.count) {
      const next = this.waiting.shift()!;
      this.free -= next.count;
      next.resolve();
    }
  }

  private check(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > this.capacity) throw new RangeError(`cannot take ${count} of ${this.capacity} window slots`);
  }
}
