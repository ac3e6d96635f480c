import type { JobLease, JobQueue } from './ports.ts';

interface Entry {
  id: string;
  priority: number;
  seq: number;
}

/** In-memory priority queue of the embedded mode: higher priority first, FIFO within a priority. */
export class MemoryJobQueue implements JobQueue {
  private readonly entries: Entry[] = [];
  private readonly waiters: ((id: string) => void)[] = [];
  private seq = 0;

  async push(id: string, priority: number): Promise<void> {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(id);
      return;
    }
    this.entries.push({ id, priority, seq: this.seq++ });
    this.entries.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
  }

  async take(signal: AbortSignal): Promise<JobLease> {
    return memoryLease(await this.takeId(signal));
  }

  private takeId(signal: AbortSignal): Promise<string> {
    const next = this.entries.shift();
    if (next) return Promise.resolve(next.id);
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const waiter = (id: string) => {
        signal.removeEventListener('abort', onAbort);
        resolve(id);
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  async remove(id: string): Promise<boolean> {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  async size(): Promise<number> {
    return this.entries.length;
  }
}

/** In one process a taken job needs no keeping alive, and cannot be handed to anyone else. */
function memoryLease(id: string): JobLease {
  return { id, redeliveries: 0, working: () => undefined, ack: async () => undefined, release: async () => false };
}
