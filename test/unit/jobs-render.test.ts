import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DenoiserManifest } from '../../common/manifest.ts';
import type { JobSpec__Output } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { CapacityModel } from '../../coordinator/cluster/capacity.ts';
import type { EvaluateOptions, WindowWork, WorkerPool } from '../../coordinator/cluster/worker-pool.ts';
import { emptyProgress, type JobRecord } from '../../coordinator/jobs/job.ts';
import { DEFAULT_JOB_LIMITS } from '../../coordinator/jobs/limits.ts';
import { LocalArtifactStore } from '../../coordinator/jobs/local-artifacts.ts';
import { LocalInputStore } from '../../coordinator/jobs/local-inputs.ts';
import { MemoryBudget } from '../../coordinator/jobs/memory-budget.ts';
import type { CheckpointStore } from '../../coordinator/jobs/ports.ts';
import { createRenderer, type RenderDeps } from '../../coordinator/jobs/render.ts';
import type { RenderEvent } from '../../coordinator/jobs/render-events.ts';
import { validateSpec, type ValidSpec } from '../../coordinator/jobs/spec.ts';
import type { Encoder, FrameSink } from '../../coordinator/video/encoder-port.ts';
import { buildReferenceModel } from '../../models/registry.ts';
import { testLog } from '../helpers/servers.ts';

/**
 * The render pipeline (coordinator/jobs/render.ts) on a scripted worker pool
 * and encoder: the events it reports for each engine, a resume from its own
 * checkpoint that ends bit for bit as an uninterrupted run, the ENCODING
 * stage, and what it gives back when it fails.
 */

const manifest = buildReferenceModel('field-mixture').manifest as DenoiserManifest;

function spec(patch: Partial<JobSpec__Output> = {}): ValidSpec {
  const raw = { model: 'field-mixture', prompt: 'clouds', promptSchedule: [], frames: 16, height: 128, width: 128, fps: 24, steps: 6, scheduler: '', eta: 0, seed: 7, sampler: null, layout: null, output: { format: 'latent' }, priority: 0, negativePrompt: '', guidance: 0, ...patch };
  return validateSpec(raw as JobSpec__Output, (n) => (n === 'field-mixture' ? manifest : undefined), ['field-mixture'], DEFAULT_JOB_LIMITS);
}

function record(id: string, s: ValidSpec): JobRecord {
  return { id, spec: s, state: 'RUNNING', progress: emptyProgress(s), error: '', createdAtMs: 1, startedAtMs: 2, finishedAtMs: 0, outputBytes: 0, outputFormat: s.output.format, clientRequestId: '', metrics: {} };
}

/** A worker pool that answers every window with a fixed function of its sample; `failAfter` evaluations it fails. */
class ScriptedPool implements WorkerPool {
  evaluations = 0;
  constructor(private readonly failAfter = Infinity) {}

  async evaluate(_model: string, items: readonly WindowWork[], opts?: EvaluateOptions): Promise<Float32Array[]> {
    if (this.evaluations + items.length > this.failAfter) throw new Error('worker output 0.data contains NaN or Inf');
    this.evaluations += items.length;
    opts?.onBatchDone?.(items.length);
    return items.map((it) => it.sample.map((x, i) => 0.4 * x + 0.01 * Math.sin(i + it.timestep)));
  }

  async decode(_model: string, _latents: Float32Array, shape: readonly number[]): Promise<{ data: Uint8Array; shape: number[] }> {
    const [n, , h, w] = shape as [number, number, number, number];
    const out = [n * manifest.vaeScale.temporal, 3, h * manifest.vaeScale.spatial, w * manifest.vaeScale.spatial];
    return { data: new Uint8Array(out.reduce((a, b) => a * b, 1)).fill(128), shape: out };
  }

  async encode(): Promise<{ data: Float32Array; shape: number[] }> {
    throw new Error('no encode in these jobs');
  }
}

/** An encoder that counts the frames it is given and writes their count as the file. */
class CountingEncoder implements Encoder {
  frames = 0;
  open(opts: { outputPath: string }): FrameSink {
    return {
      writeFrame: async () => void this.frames++,
      finish: async () => {
        writeFileSync(opts.outputPath, String(this.frames));
        return { path: opts.outputPath, bytes: String(this.frames).length, frames: this.frames };
      },
      abort: async () => undefined,
    };
  }
}

class MemoryCheckpoints implements CheckpointStore {
  readonly saved = new Map<string, Uint8Array>();
  async save(id: string, bytes: Uint8Array) {
    this.saved.set(id, bytes.slice());
  }
  async load(id: string) {
    return this.saved.get(id);
  }
  async delete(id: string) {
    this.saved.delete(id);
  }
}

function deps(pool: WorkerPool, over: Partial<RenderDeps> = {}): RenderDeps & { memory: MemoryBudget; capacity: CapacityModel } {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-render-'));
  return {
    pool,
    encoder: new CountingEncoder(),
    artifacts: new LocalArtifactStore(join(dir, 'outputs')),
    inputs: new LocalInputStore(join(dir, 'inputs')),
    manifest: (m) => (m === 'field-mixture' ? manifest : undefined),
    log: testLog,
    decodeFramesPerCall: 2,
    capacity: new CapacityModel({ slots: () => 4, shareWorkers: () => true, waiting: () => 0 }),
    memory: new MemoryBudget(1 << 30),
    ...over,
  } as RenderDeps & { memory: MemoryBudget; capacity: CapacityModel };
}

/** Renders `job`, collecting its events; `stopAt` aborts the run once an event matches. */
async function render(d: RenderDeps, job: JobRecord, stopAt?: (e: RenderEvent) => boolean) {
  const events: RenderEvent[] = [];
  const ctl = new AbortController();
  const result = await createRenderer(d)(job, (e) => (events.push(e), stopAt?.(e) && ctl.abort(new Error('stopped by the test'))), ctl.signal).then(
    (r) => ({ ok: true as const, outputBytes: r.outputBytes }),
    (err: unknown) => ({ ok: false as const, error: err as Error }),
  );
  return { events, result, output: result.ok ? await stored(d, job.id) : undefined };
}

/** The output the artifact store holds for the job. */
async function stored(d: RenderDeps, id: string): Promise<Buffer> {
  const { stream } = await d.artifacts.open(id);
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

const kinds = (events: RenderEvent[]) => events.map((e) => e.kind);

test('render - a sequential job reports each step, then what sampling took and its seams, and writes the latent', async () => {
  const pool = new ScriptedPool();
  const d = deps(pool);
  const { events, result, output } = await render(d, record('job-seq', spec()));
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  assert.equal(result.outputBytes, output!.length);
  const steps = events.filter((e) => e.kind === 'step');
  assert.deepEqual(steps.map((e) => e.step), [1, 2, 3, 4, 5, 6]);
  assert.ok(steps.every((e) => e.totalSteps === 6));
  const sampled = events.find((e) => e.kind === 'sampled');
  assert.ok(sampled && !sampled.picard, 'no Picard totals for the sequential engine');
  assert.equal(sampled.evaluations, pool.evaluations);
  const last = events.filter((e) => e.kind === 'evaluations').at(-1);
  assert.equal(last?.kind === 'evaluations' && last.evaluations, pool.evaluations, 'evaluations counted as batches come back');
  assert.deepEqual(kinds(events).slice(-2), ['sampled', 'seams'], 'a latent output is never encoded');
  assert.equal(d.capacity.running, 0, 'the capacity claim is released');
  (await d.memory.reserve(d.memory.capacity, 'the next job', AbortSignal.timeout(10_000)))();
});

test('render - a Picard job reports rounds and its totals', async () => {
  const pool = new ScriptedPool();
  const { events, result } = await render(deps(pool), record('job-picard', spec({ sampler: { kind: 'picard', window: 3, tolerance: 0, policy: '' } as never })));
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  const rounds = events.filter((e) => e.kind === 'picard-round');
  assert.ok(rounds.length >= 2);
  assert.deepEqual(rounds.map((r) => r.round), rounds.map((_, i) => i + 1));
  assert.equal(rounds.at(-1)!.converged, 6);
  assert.ok(rounds.every((r) => r.window >= 1 && r.window <= 3 && r.totalSteps === 6));
  const sampled = events.find((e) => e.kind === 'sampled');
  assert.deepEqual(sampled?.kind === 'sampled' && sampled.picard, { rounds: rounds.length, points: pool.evaluations / (sampled?.kind === 'sampled' ? sampled.windows : 1) });
});

test('render - stopped after step 3 and run again, it resumes from its checkpoint and ends bit for bit as an uninterrupted run', async () => {
  const whole = await render(deps(new ScriptedPool()), record('job-resume', spec()));
  assert.ok(whole.result.ok);
  const checkpoints = new MemoryCheckpoints();
  const d = deps(new ScriptedPool(), { checkpoints, checkpointIntervalMs: 0 });
  const first = await render(d, record('job-resume', spec()), (e) => e.kind === 'step' && e.step === 3);
  assert.equal(first.result.ok, false);
  assert.ok(checkpoints.saved.has('job-resume'), 'a checkpoint was written');
  const second = await render(d, record('job-resume', spec()));
  assert.ok(second.result.ok, second.result.ok ? '' : second.result.error.message);
  const resumed = second.events.find((e) => e.kind === 'resumed');
  assert.ok(resumed?.kind === 'resumed' && resumed.step >= 3 && resumed.step < 6, `resumed at ${JSON.stringify(resumed)}`);
  const steps = second.events.filter((e) => e.kind === 'step').map((e) => (e as { step: number }).step);
  assert.deepEqual(steps, Array.from({ length: 6 - resumed.step }, (_, i) => resumed.step + 1 + i), 'steps go on from there');
  assert.ok(second.output!.equals(whole.output!), 'the same latent as the uninterrupted run');
});

test('render - a video output goes ENCODING and reports the frames it writes', async () => {
  const d = deps(new ScriptedPool());
  const { events, result } = await render(d, record('job-mp4', spec({ output: { format: 'mp4', crf: 0 } as never })));
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  const after = kinds(events).slice(kinds(events).indexOf('encoding'));
  assert.ok(after.length > 1 && after.slice(1).every((k) => k === 'frames-encoded'), `after encoding: ${after.join(', ')}`);
  const frames = events.filter((e) => e.kind === 'frames-encoded').map((e) => (e as { frames: number }).frames);
  assert.equal(frames.at(-1), 16);
  assert.deepEqual(frames.slice(0, -1), [...frames.slice(0, -1)].sort((a, b) => a - b), 'frames only grow');
  assert.equal((d.encoder as CountingEncoder).frames, 16);
});

test('render - a failing worker fails the job with its error, and the memory and capacity it held are given back', async () => {
  const d = deps(new ScriptedPool(5), { memory: new MemoryBudget(64 << 20) });
  const { result } = await render(d, record('job-fail', spec()));
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.error.message, /NaN or Inf/);
  assert.equal(d.capacity.running, 0);
  // The whole budget is free again: a reservation of all of it is granted at once.
  (await d.memory.reserve(d.memory.capacity, 'the next job', AbortSignal.timeout(10_000)))();
});
