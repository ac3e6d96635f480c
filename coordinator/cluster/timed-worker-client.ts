/**
 * A worker client whose calls are timed: each call's seconds and outcome
 * (`ok`, `error`, or `canceled` when its signal aborted) and each Evaluate's
 * items go to the given observers (coordinator/metrics.ts turns them into
 * `propeller_batch_duration_seconds` and `propeller_batch_size_items`).
 */
import type { WorkerCalls } from './worker-client.ts';

export interface CallObservers {
  call(method: 'evaluate' | 'decode' | 'encode', outcome: 'ok' | 'error' | 'canceled', seconds: number): void;
  evaluateItems(items: number): void;
}

export function timedWorkerClient(client: WorkerCalls, observe: CallObservers): WorkerCalls {
  const timed = <T>(method: 'evaluate' | 'decode' | 'encode', signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const done = (outcome: 'ok' | 'error' | 'canceled') => observe.call(method, outcome, (performance.now() - started) / 1000);
    return call().then(
      (res) => {
        done('ok');
        return res;
      },
      (err: unknown) => {
        done(signal?.aborted ? 'canceled' : 'error');
        throw err;
      },
    );
  };
  return {
    info: (timeoutMs) => client.info(timeoutMs),
    evaluate: (req, timeoutMs, signal, onReceived) => {
      observe.evaluateItems(req.items?.length ?? 0);
      return timed('evaluate', signal, () => client.evaluate(req, timeoutMs, signal, onReceived));
    },
    decode: (req, timeoutMs, signal) => timed('decode', signal, () => client.decode(req, timeoutMs, signal)),
    encode: (req, timeoutMs, signal) => timed('encode', signal, () => client.encode(req, timeoutMs, signal)),
    close: () => client.close(),
  };
}
