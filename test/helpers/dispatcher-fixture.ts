/**
 * The dispatcher against in-process fake workers, in virtual time: the
 * fixture of the dispatcher's unit tests (test/unit/cluster-dispatcher*.test.ts).
 * Each fake answers item x with x + 1, so a wrong or missing answer shows in
 * the results. The fakes' latencies, the batch timeouts, the heartbeats and
 * the dispatcher's clock all run on node:test mock timers
 * (test/helpers/mock-time.ts), so every bound on time in those tests is
 * exact and holds on a loaded machine.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../../common/logger.ts';
import { decodeTensor, encodeTensor } from '../../common/tensor-codec.ts';
import type { EvaluateRequest } from '../../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { Dispatcher, type DispatcherOptions, type WindowWork } from '../../coordinator/cluster/dispatcher.ts';
import type { WorkerCalls } from '../../coordinator/cluster/worker-client.ts';
import { WorkerRegistry } from '../../coordinator/cluster/worker-registry.ts';
import { fakeWorkerInfo } from './fake-worker-info.ts';
import { MockTime } from './mock-time.ts';

const log: Logger = createLogger('test', { level: 'silent' });

/** How a fake answers: normally, with an error, or not at all (until the call's deadline). */
export type Mode = 'ok' | 'fail' | 'stuck';

/** An error as grpc-js raises it for a call that failed with `code`. */
export function grpcError(code: grpc.status, details: string): Error {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details });
}

/** A worker whose latency, failures and receipts the test scripts. */
export class FakeWorker implements WorkerCalls {
  mode: Mode = 'ok';
  latencyMs = 5;
  /** Item x is answered x + offset. */
  offset = 1;
  /** Added to latencyMs per item of a call (a slow link or a slow GPU). */
  perItemMs = 0;
  /** Items per Evaluate call received, in order. */
  readonly calls: number[] = [];
  /** Evaluate calls answered successfully. */
  answered = 0;
  /** Request tags (`jobId`) of the items received, in order. */
  readonly served: string[] = [];
  /** Confirm receipt of each request this long after it is sent (as a real worker's early headers); undefined: never. */
  receiptAfterMs: number | undefined;
  /** Calls and receipts in order: `call <items>`, `received <items>`. */
  readonly events: string[] = [];
  /** First sample value of every item received, in order. */
  readonly firsts: number[] = [];

  constructor(readonly address: string) {}

  async info(timeoutMs: number): Promise<InfoResponse__Output> {
    if (this.mode === 'stuck') return this.hang(timeoutMs);
    return fakeWorkerInfo(this.address, { confirmsReceipt: this.receiptAfterMs !== undefined });
  }

  async evaluate(req: EvaluateRequest, timeoutMs: number, _signal?: AbortSignal, onReceived?: () => void): Promise<EvaluateResponse__Output> {
    const items = req.items ?? [];
    this.calls.push(items.length);
    this.events.push(`call ${items.length}`);
    if (this.receiptAfterMs !== undefined) {
      setTimeout(() => {
        this.events.push(`received ${items.length}`);
        onReceived?.();
      }, this.receiptAfterMs);
    }
    if (this.mode === 'stuck') return this.hang(timeoutMs);
    const latency = this.latencyMs + this.perItemMs * items.length;
    await new Promise((r) => setTimeout(r, Math.min(latency, timeoutMs)));
    if (latency > timeoutMs) throw grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
    if (this.mode === 'fail') throw grpcError(grpc.status.INTERNAL, `boom from ${this.address}`);
    for (let i = 0; i < items.length; i++) this.served.push(req.jobId ?? '');
    for (const it of items) this.firsts.push(decodeTensor(it.sample as Tensor__Output, 'sample').data[0]!);
    this.answered++;
    return {
      computeSeconds: 0,
      outputs: items.map((it) => {
        const x = decodeTensor(it.sample as Tensor__Output, 'sample');
        return encodeTensor(x.data.map((v) => v + this.offset), x.shape, 'float32') as Tensor__Output;
      }),
    };
  }

  decode(): never {
    throw new Error('not used');
  }

  encode(): never {
    throw new Error('not used');
  }

  close(): void {}

  private hang<T>(timeoutMs: number): Promise<T> {
    return new Promise((_, reject) => setTimeout(() => reject(grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeoutMs));
  }
}

/**
 * A registry of fake workers named `names` (heartbeat every `probeIntervalMs`, 60 s by default) and a
 * dispatcher over them, in virtual time: `run` lets time pass until a promise settles.
 */
export async function setup(t: TestContext, names: string[], opts: Partial<DispatcherOptions> = {}, registryOpts: { probeIntervalMs?: number } = {}, configure?: (w: FakeWorker) => void) {
  const time = new MockTime(t);
  const fakes = new Map(names.map((n) => [n, new FakeWorker(n)]));
  if (configure) for (const f of fakes.values()) configure(f);
  const registry = new WorkerRegistry({
    maxMessageBytes: 64 << 20,
    infoTimeoutMs: 100,
    probeIntervalMs: registryOpts.probeIntervalMs ?? 60_000,
    maxConsecutiveFailures: 3,
    log,
    connect: (address) => fakes.get(address)!,
  });
  await registry.add(names);
  registry.start();
  const dispatcher = new Dispatcher(registry, {
    wireDtype: 'float32',
    maxInFlightPerWorker: 2,
    batchTimeoutMs: 10_000,
    maxAttempts: 5,
    noWorkerTimeoutMs: 5_000,
    stragglers: { factor: 3, minMs: 60_000 },
    clock: time.clock,
    log,
    ...opts,
  });
  const close = () => {
    dispatcher.close();
    registry.close();
  };
  /** Lets virtual time pass until `work` settles. */
  const run = <T>(work: Promise<T>) => time.run(work);
  return { fakes, registry, dispatcher, time, run, close };
}

/** A 1x1x1 window with two channels (item x is [x, -x]). */
const WINDOW = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };

/** `n` items, item i of a 1x1x1 window with samples [base + i, -(base + i)]. */
export function items(n: number, base = 0): WindowWork[] {
  return Array.from({ length: n }, (_, i) => ({ window: WINDOW, sample: new Float32Array([base + i, -(base + i)]), timestep: 10 }));
}

/** What the fakes answer for `items(n, base)`. */
export function assertAnswers(out: Float32Array[], n: number, base = 0): void {
  assert.equal(out.length, n);
  out.forEach((o, i) => assert.deepEqual([...o], [base + i + 1, -(base + i) + 1]));
}

