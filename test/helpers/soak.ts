import * as grpc from '@grpc/grpc-js';
import type { ChildServer } from '../../cli/worker-process.ts';
import type { ProcessCluster } from './cluster.ts';
import { relL2 as relL2Of } from '../../common/rel-l2.ts';

/**
 * Pieces of the soak test (test/fault/soak.test.ts): a seeded random
 * generator for its fault schedule, the retry rule of its clients, and
 * restarts of worker processes on the port they had.
 */

/** A small seeded generator (mulberry32): the same seed gives the same schedule. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** The codes a client retries with the same client request id: the call may or may not have been done. */
export function isRetryable(err: unknown): boolean {
  const code = (err as grpc.ServiceError | undefined)?.code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED;
}

/** `CODE: details` of a gRPC error, or its message. */
export function describeError(err: unknown): string {
  const e = err as grpc.ServiceError;
  return typeof e?.code === 'number' ? `${grpc.status[e.code]}: ${e.details}` : String((err as Error)?.message ?? err);
}

/**
 * Starts a worker process listening on `port` (the one a killed worker had,
 * so coordinators with it in their `--workers` list find it again). The
 * later `--listen` overrides the one ProcessCluster.worker passes. Tries
 * again while the port is not free yet, up to `timeoutMs`.
 */
export async function workerOnPort(cluster: ProcessCluster, name: string, port: number, timeoutMs = 30_000): Promise<ChildServer> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.worker(attempt === 1 ? name : `${name}.${attempt}`, ['--listen', `127.0.0.1:${port}`]);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`worker ${name} could not be started again on port ${port} within ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Port of a `host:port` address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** relL2 of two latents; Infinity when their sizes differ (a wrong output, reported as such). */
export function relL2(a: Float32Array, b: Float32Array): number {
  return a.length === b.length ? relL2Of(a, b) : Infinity;
}
