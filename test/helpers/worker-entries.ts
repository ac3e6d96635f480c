import type { WorkerEntry } from '../../coordinator/cluster/worker-registry.ts';
import type { WindowWork } from '../../coordinator/layout/window-work.ts';

/**
 * Hand-built registry entries and work items for unit tests of the
 * dispatcher's parts (hedging, retries): a serving worker of model `m` that
 * is never called.
 */
export function workerEntry(address: string, over: Partial<WorkerEntry> = {}): WorkerEntry {
  return {
    address,
    client: undefined as never,
    sources: new Set(['static']),
    id: address,
    device: 'gpu',
    state: 'serving',
    maxBatch: 16,
    capacity: 1,
    maxMessageBytes: 1 << 20,
    models: new Map([['m', undefined as never]]),
    unavailable: new Map(),
    inFlight: 0,
    inTransit: 0,
    confirmsReceipt: false,
    evaluations: 0,
    consecutiveFailures: 0,
    lastError: '',
    throughput: 0,
    secondsPerItem: undefined,
    busySeconds: 0,
    busySince: undefined,
    probing: false,
    ...over,
  };
}

const WINDOW = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };

/** `n` work items of a 1x1x1 window with two channels. */
export function workItems(n: number): WindowWork[] {
  return Array.from({ length: n }, () => ({ window: WINDOW, sample: new Float32Array(2), timestep: 1 }));
}
