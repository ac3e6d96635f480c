import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { CancelRequests } from '../jobs/ports.ts';

const cancelKey = (id: string) => `cancel.${id}`;

/** Cancel requests as KV keys `cancel.<id>`, watched by every coordinator. */
export class KvCancelRequests implements CancelRequests {
  private readonly listeners = new Set<(id: string) => void>();
  private stopWatch: (() => void) | undefined;

  private constructor(private readonly kv: KV) {}

  static async open(kv: KV): Promise<KvCancelRequests> {
    const c = new KvCancelRequests(kv);
    const iter = await kv.watch({ key: 'cancel.*', include: KvWatchInclude.UpdatesOnly, ignoreDeletes: true });
    c.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const id = e.key.slice('cancel.'.length);
        for (const l of [...c.listeners]) l(id);
      }
    })().catch(() => undefined);
    return c;
  }

  async request(id: string): Promise<void> {
    await this.kv.put(cancelKey(id), String(Date.now()));
  }

  async isRequested(id: string): Promise<boolean> {
    const e = await this.kv.get(cancelKey(id));
    return e !== null && e.operation === 'PUT';
  }

  subscribe(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async clear(id: string): Promise<void> {
    if (await this.isRequested(id)) await this.kv.purge(cancelKey(id));
  }

  close(): void {
    this.stopWatch?.();
    this.listeners.clear();
  }
}
