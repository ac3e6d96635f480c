import * as grpc from '@grpc/grpc-js';
import { Rng } from '../../common/rng.ts';

/**
 * What the fuzz test's request generators share: the seeded draws (one
 * stream, so a run is the same run every time), the request type they
 * produce, and the window shape of the worker's field-mixture model.
 */

/** One request to send, resolving with its status code; `label` says what it was (for a failure message). */
export type Request = (() => Promise<grpc.status>) & { label?: string };
export const labelled = (label: string, r: () => Promise<grpc.status>): Request => Object.assign(r, { label });

/** The status code a call's promise settles with (OK, or the error's code). */
export const statusOf = (p: Promise<unknown>): Promise<grpc.status> => p.then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code ?? -1);

/** The latent window a field-mixture Evaluate takes, and its element count. */
export const WINDOW = [4, 16, 32, 32];
export const WINDOW_N = 4 * 16 * 32 * 32;

/** Seeded draws: integers, uniforms, a pick from a list, random bytes. */
export class FuzzDraws {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  int(n: number): number {
    return this.rng.int(n);
  }
  uniform(): number {
    return this.rng.uniform();
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(256);
    return b;
  }
}
