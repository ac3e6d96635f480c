import assert from 'node:assert/strict';
import { createLogger } from '../../common/logger.ts';
import { WorkerRegistry, type WorkerEntry } from '../../coordinator/cluster/worker-registry.ts';
import type { WindowWork } from '../../coordinator/layout/window-work.ts';
import { fakeWorkerInfo } from './fake-worker-info.ts';

/**
 * Registry entries and work items for unit tests of the dispatcher's parts
 * (hedging, retries) that hand-build the situation to judge.
 */
const log = createLogger('test', { level: 'silent' });

/** The model the entries serve. */
export const ENTRY_MODEL = 'field-mixture';

/**
 * A serving worker's entry as a registry makes it (its Info answered by a
 * fake connection that fails any other call), then `over` set on it: the
 * load or pace the test needs.
 */
export async function workerEntry(address: string, over: Partial<WorkerEntry> = {}): Promise<WorkerEntry> {
  const registry = new WorkerRegistry({
    maxMessageBytes: 64 << 20,
    infoTimeoutMs: 1_000,
    probeIntervalMs: 60_000,
    maxConsecutiveFailures: 3,
    log,
    connect: () => ({
      info: async () => fakeWorkerInfo(address),
      evaluate: () => assert.fail('not called'),
      decode: () => assert.fail('not called'),
      encode: () => assert.fail('not called'),
      close: () => undefined,
    }),
  });
  await registry.add([address]);
  const e = registry.all()[0]!;
  assert.equal(e.state, 'serving');
  return Object.assign(e, over);
}

const WINDOW = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };

/** `n` work items of a 1x1x1 window with two channels. */
export function workItems(n: number): WindowWork[] {
  return Array.from({ length: n }, () => ({ window: WINDOW, sample: new Float32Array(2), timestep: 1 }));
}
