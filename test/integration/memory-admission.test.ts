import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { fieldMixtureManifest } from '../../models/field-mixture/build.ts';
import { estimateJobMemory, formatBytes } from '../../coordinator/jobs/memory-estimate.ts';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startTestWorker } from '../helpers/servers.ts';
import * as grpc from '@grpc/grpc-js';

/**
 * Admission by cost, against real coordinator processes: the documented
 * memory estimate (coordinator/jobs/memory-estimate.ts) against the measured
 * peak resident memory of Picard jobs of three sizes (each in a fresh
 * coordinator: freed memory stays with the process, so a second job's peak
 * over its start says little), a Submit far past the budget refused at once,
 * and jobs that do not fit beside each other run one after the other.
 */
const f = {} as { workers: WorkerHandle[]; coordinator: ChildServer; client: JobClient };
const dir = mkdtempSync(join(tmpdir(), 'propeller-memory-'));

/** (Re)starts the coordinator process over the two workers with `extra` flags. */
async function coordinator(extra: string[] = []): Promise<void> {
  f.client?.close();
  await f.coordinator?.stop(5_000);
  f.coordinator = await spawnCliServer(['coordinator', '--listen', '127.0.0.1:0', '--data-dir', dir, '--workers', f.workers.map((w) => w.address).join(','), ...extra], { env: { PROPELLER_LOG_LEVEL: 'warn' } });
  f.client = new JobClient(f.coordinator.address);
}

before(async () => {
  f.workers = [await startTestWorker(), await startTestWorker()];
});
after(async () => {
  f.client?.close();
  await f.coordinator?.stop(5_000);
  await Promise.all(f.workers?.map((w) => w.drain()) ?? []);
});

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM). */
function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `/proc/${pid}/status has no ${field}`);
  return Number(m[1]) * 1024;
}

/** Runs `spec` until `rounds` Picard rounds are done (or it ends) and returns the coordinator's peak resident memory over its resident memory before. */
async function peakOf(spec: JobSpec, rounds: number): Promise<{ measured: number; job: Job__Output }> {
  await coordinator(['--max-jobs', '1']);
  const pid = f.coordinator.process.pid!;
  // Let start-up settle, then reset the peak (clear_refs 5: VmHWM = VmRSS).
  await new Promise((r) => setTimeout(r, 500));
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = status(pid, 'VmRSS');
  const job = await f.client.submit(spec);
  await new Promise<void>((resolve, reject) => {
    const ctl = new AbortController();
    f.client
      .watch(
        job.id,
        (e) => {
          if ((e.job?.progress?.picardIteration ?? 0) >= rounds) {
            ctl.abort();
            resolve();
          }
        },
        ctl.signal,
      )
      .then(() => resolve(), (err: unknown) => (ctl.signal.aborted ? resolve() : reject(err)));
  });
  const peak = status(pid, 'VmHWM');
  await f.client.cancel(job.id).catch(() => undefined);
  return { measured: peak - before, job };
}

const base: JobSpec = { model: 'field-mixture', prompt: 'clouds', fps: 8, steps: 20, seed: 3, output: { format: 'latent' } };

test('memory - a Picard job\'s peak resident memory is within 25 % of its estimate, at three sizes', { timeout: 600_000 }, async (t) => {
  const m = fieldMixtureManifest();
  const sizes: JobSpec[] = [
    { ...base, frames: 64, height: 256, width: 256, sampler: { kind: 'picard', window: 8, tolerance: 0.1 } },
    { ...base, frames: 64, height: 256, width: 256, sampler: { kind: 'picard', window: 16, tolerance: 0.1 } },
    { ...base, frames: 128, height: 256, width: 256, sampler: { kind: 'picard', window: 12, tolerance: 0.1 } },
  ];
  const results: { ratio: number; line: string }[] = [];
  for (const spec of sizes) {
    const { measured, job } = await peakOf(spec, 3);
    // The spec as the coordinator completed it (overlaps, window).
    const s = job.spec!;
    const est = estimateJobMemory({ frames: s.frames, height: s.height, width: s.width, steps: s.steps, sampler: s.sampler!, layout: { chunkOverlap: s.layout!.chunkOverlap!, tileOverlap: s.layout!.tileOverlap! } }, m);
    const ratio = measured / est.bytes;
    t.diagnostic(`${spec.frames}x${spec.height}x${spec.width} window ${spec.sampler!.window}: ${est.windows} windows, estimate ${formatBytes(est.bytes)}, measured ${formatBytes(measured)} (${ratio.toFixed(2)})`);
    results.push({ ratio, line: `measured ${formatBytes(measured)} against an estimate of ${formatBytes(est.bytes)} (ratio ${ratio.toFixed(2)}, ${est.windows} windows, window ${est.window})` });
  }
  for (const r of results) assert.ok(Math.abs(r.ratio - 1) <= 0.25, r.line);
});

test('memory - a Submit far past the budget (16384 frames of 4096x4096) answers RESOURCE_EXHAUSTED at once and the coordinator keeps serving', { timeout: 120_000 }, async () => {
  await coordinator(['--max-jobs', '2']);
  const started = performance.now();
  await assert.rejects(f.client.submit({ ...base, frames: 16384, height: 4096, width: 4096, steps: 1 }), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED, `${grpc.status[e.code]}: ${e.details}`);
    assert.match(e.details, /a 16384-frame 4096x4096 job needs about [\d.]+ TiB of coordinator memory; this coordinator's budget for jobs is [\d.]+ [GM]iB/);
    return true;
  });
  const ms = performance.now() - started;
  assert.ok(ms < 1_000 * 5, `refused after ${ms} ms`);
  // Still serving: a small job runs to the end.
  const small = await f.client.submit({ ...base, frames: 16, height: 128, width: 128, steps: 2 });
  assert.equal((await f.client.watch(small.id, () => undefined)).state, 'SUCCEEDED');
});

test('memory - jobs that do not fit the budget beside each other run one after the other; one larger than the whole budget is refused', { timeout: 300_000 }, async () => {
  const m = fieldMixtureManifest();
  const spec: JobSpec = { ...base, frames: 64, height: 256, width: 256, steps: 4 };
  const need = estimateJobMemory({ frames: 64, height: 256, width: 256, steps: 4, sampler: { kind: 'sequential', window: 0 }, layout: { chunkOverlap: 8, tileOverlap: 16 } }, m).bytes;
  // Room for one such job, not two.
  const budgetMb = Math.ceil((1.5 * need) / (1 << 20));
  await coordinator(['--max-jobs', '2', '--memory-budget-mb', String(budgetMb)]);
  await assert.rejects(f.client.submit({ ...spec, sampler: { kind: 'picard', window: 8, tolerance: 0.1 } }), (e: grpc.ServiceError) => e.code === grpc.status.RESOURCE_EXHAUSTED && /with Picard window 8 needs about/.test(e.details));
  const a = await f.client.submit({ ...spec, seed: 1 });
  const b = await f.client.submit({ ...spec, seed: 2 });
  const firstStep = new Map<string, number>();
  const ends = new Map<string, number>();
  const follow = (id: string) =>
    f.client.watch(id, (e) => {
      if ((e.job?.progress?.step ?? 0) > 0 && !firstStep.has(id)) firstStep.set(id, performance.now());
    }).then((j) => {
      ends.set(id, performance.now());
      return j;
    });
  const [ja, jb] = await Promise.all([follow(a.id), follow(b.id)]);
  assert.equal(ja.state, 'SUCCEEDED', ja.error);
  assert.equal(jb.state, 'SUCCEEDED', jb.error);
  // Whichever started sampling second did so after the first had finished sampling.
  const [first, second] = [a.id, b.id].sort((x, y) => firstStep.get(x)! - firstStep.get(y)!);
  assert.ok(firstStep.get(second!)! >= ends.get(first!)! - 1_000, 'the second job sampled while the first still held the budget');
});
