import * as grpc from '@grpc/grpc-js';
import { after, before } from 'node:test';
import { JobClient } from '../../cli/job-client.ts';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/logger.ts';
import { messageLimitOptions } from '../../common/grpc-options.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { DenoiserServiceClient } from '../../common/proto/generated/propeller/v1/DenoiserService.ts';
import { startCoordinator, type CoordinatorHandle } from '../../coordinator/server.ts';
import type { CoordinatorOptions } from '../../coordinator/config.ts';
import { startWorker, type WorkerHandle } from '../../worker/server.ts';
import type { WorkerOptions } from '../../worker/config.ts';
import { ensureReferenceModels } from '../../models/registry.ts';

/** Quiet logger for tests (set PROPELLER_TEST_LOG=debug to see everything). */
export const testLog = createLogger('test', { level: (process.env.PROPELLER_TEST_LOG as 'debug' | undefined) ?? 'silent' });

/** The reference models, built once into the shared cache. */
export function referenceModelDir(): Promise<string> {
  return ensureReferenceModels();
}

/** A real worker in this process on a loopback port 0. */
export async function startTestWorker(opts: Partial<WorkerOptions> = {}): Promise<WorkerHandle> {
  return startWorker({ listen: '127.0.0.1:0', modelDirs: [await referenceModelDir()], drainTimeoutMs: 5_000, ...opts }, testLog);
}

/** A real coordinator in this process on loopback port 0, with a temp data dir. */
export function startTestCoordinator(opts: Partial<CoordinatorOptions> = {}): Promise<CoordinatorHandle> {
  return startCoordinator({ listen: '127.0.0.1:0', dataDir: mkdtempSync(join(tmpdir(), 'propeller-test-')), noWorkerTimeoutMs: 5_000, ...opts }, testLog);
}

/** A raw DenoiserService client for poking a worker directly. */
export function denoiserClient(address: string): DenoiserServiceClient {
  const Ctor = loadProtos().denoiser.propeller.v1.DenoiserService;
  return new Ctor(address, grpc.credentials.createInsecure(), messageLimitOptions());
}

/** Promisifies a unary call on a generated client. */
export function call<Req, Res>(fn: (req: Req, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

/** A loopback port that was free a moment ago (for a server a test starts later on purpose). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** What {@link workerAndCoordinator} gives a test file, filled in by its `before` hook. */
export interface WorkerAndCoordinator {
  readonly worker: WorkerHandle;
  readonly coordinator: CoordinatorHandle;
  readonly client: JobClient;
}

/**
 * One in-process worker, a coordinator over it and a client of it, for a
 * whole test file: started in a `before` hook, stopped in an `after` hook.
 * `ready` runs in that same hook once both serve (a file's own `before`
 * hooks do not wait for this one).
 */
export function workerAndCoordinator(opts: Partial<CoordinatorOptions> = {}, ready?: (f: WorkerAndCoordinator) => void): WorkerAndCoordinator {
  const f = {} as { worker: WorkerHandle; coordinator: CoordinatorHandle; client: JobClient };
  before(async () => {
    f.worker = await startTestWorker();
    f.coordinator = await startTestCoordinator({ workers: [f.worker.address], ...opts });
    f.client = new JobClient(f.coordinator.address);
    ready?.(f);
  });
  after(async () => {
    f.client?.close();
    await f.coordinator?.close();
    await f.worker?.drain();
  });
  return f;
}
