import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import type { WorkerStatus__Output } from '../../common/proto/generated/propeller/v1/WorkerStatus.ts';
import { referenceModelDir } from './servers.ts';

/**
 * Real-process clusters for fault and cluster tests: worker and coordinator
 * processes spawned through the CLI (`spawnCliServer`), their stderr kept
 * so tests can read what the coordinator logged.
 */
export class ProcessCluster {
  readonly children: ChildServer[] = [];
  /** stderr lines per child name. */
  readonly logs = new Map<string, string[]>();
  readonly dataDir = mkdtempSync(join(tmpdir(), 'propeller-fault-'));

  /** Starts a worker process on a free port; `extra` adds flags (e.g. `--fail-rate 1`). */
  async worker(name: string, extra: string[] = []): Promise<ChildServer> {
    const models = await referenceModelDir();
    return this.spawn(name, ['worker', '--listen', '127.0.0.1:0', '--models', models, '--id', name, ...extra]);
  }

  /** Starts a coordinator process over `workers` (may be empty); `extra` adds flags. */
  coordinator(name: string, workers: readonly ChildServer[], extra: string[] = []): Promise<ChildServer> {
    const list = workers.length ? ['--workers', workers.map((w) => w.address).join(',')] : [];
    return this.spawn(name, ['coordinator', '--listen', '127.0.0.1:0', '--data-dir', join(this.dataDir, name), ...list, ...extra]);
  }

  /**
   * Two workers (`${name}-w0`, `${name}-w1`), a coordinator over them
   * (`${name}-coordinator`, with `coordinatorFlags`) and a client of it.
   */
  async twoWorkers(name: string, coordinatorFlags: string[] = []): Promise<{ workers: ChildServer[]; coordinator: ChildServer; client: JobClient }> {
    const workers = await Promise.all([this.worker(`${name}-w0`), this.worker(`${name}-w1`)]);
    const coordinator = await this.coordinator(`${name}-coordinator`, workers, coordinatorFlags);
    return { workers, coordinator, client: new JobClient(coordinator.address) };
  }

  /** Stderr lines of a child. */
  log(name: string): string[] {
    return this.logs.get(name) ?? [];
  }

  /** Stops every child still running (SIGCONT first, in case a test paused one). */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGCONT');
        await c.stop(5_000);
      }),
    );
  }

  private async spawn(name: string, args: string[]): Promise<ChildServer> {
    const lines: string[] = [];
    this.logs.set(name, lines);
    // PROPELLER_TEST_SHOW_LOGS=1 echoes every child's log, prefixed with its name.
    const echo = process.env.PROPELLER_TEST_SHOW_LOGS === '1';
    const stderr = (l: string) => {
      lines.push(l);
      if (echo) process.stderr.write(`[${name}] ${l}\n`);
    };
    const child = await spawnCliServer(args, { env: { PROPELLER_LOG_LEVEL: 'info' }, stderr });
    this.children.push(child);
    return child;
  }
}

/**
 * A small latent-output job: 64 frames at 256x256 (7 chunks x 3 x 3 tiles =
 * 63 windows per step), `steps` steps — a few seconds on two CPU workers,
 * long enough to break something mid-job.
 */
export function smallJob(seed: number, steps = 10, size: { frames?: number; height?: number; width?: number } = {}): JobSpec {
  const frames = size.frames ?? 64;
  return {
    model: 'field-mixture',
    promptSchedule: promptSwitch('clouds', 'fire', frames / 2),
    frames,
    height: size.height ?? 256,
    width: size.width ?? 256,
    fps: 12,
    steps,
    seed,
    output: { format: 'latent' },
  };
}

/** A prompt schedule of two prompts: `first` from frame 0, `second` from frame `at` on. */
export function promptSwitch(first: string, second: string, at: number): NonNullable<JobSpec['promptSchedule']> {
  return [
    { fromFrame: 0, prompt: first },
    { fromFrame: at, prompt: second },
  ];
}

/**
 * Follows a job to its end, sending `signal` to `victim` once the job runs
 * and has done `after` evaluations: breaks a process mid-job. Returns the
 * job's end and the evaluations done at the signal (-1: it never came).
 */
export async function followAndSignal(client: JobClient, id: string, victim: ChildServer, signal: NodeJS.Signals, after = 100): Promise<{ done: Job__Output; signalledAt: number }> {
  let signalledAt = -1;
  const done = await follow(client, id, (j) => {
    const evals = Number(j.progress?.evaluations ?? 0);
    if (signalledAt < 0 && j.state === 'RUNNING' && evals >= after) {
      signalledAt = evals;
      victim.process.kill(signal);
    }
  });
  return { done, signalledAt };
}

/** Follows a job to its end; `onEvent` sees every event's job (e.g. to break something mid-job). */
export function follow(client: JobClient, id: string, onEvent: (job: Job__Output) => void = () => {}): Promise<Job__Output> {
  return client.watch(id, (e) => {
    if (e.job) onEvent(e.job);
  });
}

/** Downloads a finished job's latent file and returns its bytes. */
export async function downloadBytes(client: JobClient, id: string, dir: string): Promise<Buffer> {
  const path = join(dir, `${id}.latent`);
  await client.download(id, path);
  return readFileSync(path);
}

/** Polls `check` every 100 ms until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The ListWorkers row of the worker at `address`, if listed. */
export async function workerStatus(client: JobClient, address: string): Promise<WorkerStatus__Output | undefined> {
  return (await client.workers()).workers.find((w) => w.address === address);
}

/** Resolves with the exit code (or signal) once the child is gone. */
export function exited(child: ChildServer): Promise<{ code: number | null; signal: string | null }> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((r) => p.once('exit', (code, signal) => r({ code, signal })));
}
