import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/logger.ts';
import { decodeTensor, encodeTensor } from '../../common/tensor-codec.ts';
import type { EvaluateRequest } from '../../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import type { EvaluateResponse__Output } from '../../common/proto/generated/propeller/v1/EvaluateResponse.ts';
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';
import { Dispatcher, type WindowWork } from '../../coordinator/cluster/dispatcher.ts';
import { pointWork } from '../helpers/window-work.ts';
import type { WorkerCalls } from '../../coordinator/cluster/worker-client.ts';
import { WorkerRegistry } from '../../coordinator/cluster/worker-registry.ts';
import { fakeWorkerInfo } from '../helpers/fake-worker-info.ts';

/**
 * The coordinator distrusts worker outputs: a batch answered with NaN or Inf
 * (a broken GPU, a diverging model) counts as a failed batch, is retried on
 * another worker, and when every worker answers so the evaluation fails with
 * a message that says why (the job's error). Fake workers: unit level.
 */
const log = createLogger('test', { level: 'silent' });

type Output = 'ok' | 'nan' | 'inf';

class FakeWorker implements WorkerCalls {
  calls = 0;
  constructor(
    readonly address: string,
    public output: Output,
    readonly dtype: 'float16' | 'float32',
  ) {}

  async info(): Promise<InfoResponse__Output> {
    return fakeWorkerInfo(this.address);
  }

  async evaluate(req: EvaluateRequest): Promise<EvaluateResponse__Output> {
    this.calls++;
    const items = req.items ?? [];
    return {
      computeSeconds: 0,
      outputs: items.map((it) => {
        const x = decodeTensor(it.sample as Tensor__Output, 'sample');
        const y = x.data.map((v) => v + 1);
        if (this.output !== 'ok') y[y.length - 1] = this.output === 'nan' ? Number.NaN : Number.NEGATIVE_INFINITY;
        return encodeTensor(y, x.shape, this.dtype) as Tensor__Output;
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
}

async function setup(workers: FakeWorker[]) {
  const byAddress = new Map(workers.map((w) => [w.address, w]));
  const registry = new WorkerRegistry({ maxMessageBytes: 64 << 20, infoTimeoutMs: 100, probeIntervalMs: 20, maxConsecutiveFailures: 3, log, connect: (a) => byAddress.get(a)! });
  await registry.add(workers.map((w) => w.address));
  registry.start();
  const dispatcher = new Dispatcher(registry, {
    wireDtype: workers[0]!.dtype,
    maxInFlightPerWorker: 2,
    batchTimeoutMs: 10_000,
    maxAttempts: 4,
    noWorkerTimeoutMs: 2_000,
    stragglers: { factor: 3, minMs: 60_000 },
    log,
  });
  return { registry, dispatcher, close: () => (dispatcher.close(), registry.close()) };
}

function items(n: number): WindowWork[] {
  return Array.from({ length: n }, (_, i) => pointWork(new Float32Array([i, -i, 0.5, 2])));
}

for (const dtype of ['float16', 'float32'] as const) {
  test(`nan outputs - a ${dtype} batch with NaN or Inf from one worker is retried on another; the answers are right`, async () => {
    const bad = new FakeWorker('bad', 'nan', dtype);
    const good = new FakeWorker('good', 'ok', dtype);
    const { registry, dispatcher, close } = await setup([bad, good]);
    try {
      const out = await dispatcher.evaluate('field-mixture', items(24));
      out.forEach((o, i) => assert.deepEqual([...o], [i + 1, -i + 1, 1.5, 3]));
      assert.ok(bad.calls > 0, 'the bad worker got batches');
      const entry = registry.all().find((e) => e.address === 'bad')!;
      assert.match(entry.lastError, /worker output \d+\.data contains NaN or Inf/);
    } finally {
      close();
    }
  });
}

test('nan outputs - when every worker answers NaN or Inf the evaluation fails, saying so', async () => {
  const { dispatcher, close } = await setup([new FakeWorker('x', 'nan', 'float16'), new FakeWorker('y', 'inf', 'float16')]);
  // The dispatcher's and registry's timers do not hold a process open (a
  // coordinator's gRPC server does): hold this one open while it decides.
  const alive = setInterval(() => undefined, 1000);
  try {
    // Either every item ran out of attempts, or both workers were taken out
    // first and the wait for a serving one ran out; both name the cause.
    await assert.rejects(
      dispatcher.evaluate('field-mixture', items(8)),
      /(evaluation failed after 4 attempts; last error|no serving worker has model "field-mixture" \(last error): worker [xy]: worker output \d+\.data contains NaN or Inf/,
    );
  } finally {
    clearInterval(alive);
    close();
  }
});
