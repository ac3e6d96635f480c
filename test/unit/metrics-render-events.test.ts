import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Registry } from 'prom-client';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import type { JobRecord } from '../../coordinator/jobs/job.ts';
import type { RenderEvent } from '../../coordinator/jobs/render-events.ts';

async function series(registry: Registry, name: string): Promise<{ labels: Record<string, unknown>; value: number; metricName?: string }[]> {
  return ((await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []) as never;
}

/** A job record with only what the wrapper reads. */
function job(over: Partial<JobRecord> = {}): JobRecord {
  return { id: 'job-1', tenant: 'acme', createdAtMs: Date.now() - 5_000, startedAtMs: Date.now() - 1_000, progress: { step: 0, framesEncoded: 0 }, spec: { sampler: { kind: 'sequential' } }, ...over } as unknown as JobRecord;
}

/** Runs a scripted render (these events, in order) through the metrics wrapper. */
async function run(m: CoordinatorMetrics, record: JobRecord, events: RenderEvent[]): Promise<RenderEvent[]> {
  const seen: RenderEvent[] = [];
  const render = m.instrumentRender(async (_job, report) => {
    for (const e of events) report(e);
    return { outputBytes: 1 };
  });
  await render(record, (e) => seen.push(e), new AbortController().signal);
  return seen;
}

describe('metrics - the render wrapper times first step and frame and counts evaluations per tenant', () => {
  it('observes the first step and frame once, from submit, and adds evaluations to the tenant', async () => {
    const m = new CoordinatorMetrics();
    const events: RenderEvent[] = [
      { kind: 'evaluations', evaluations: 4 },
      { kind: 'step', step: 1, totalSteps: 2, evaluations: 8, etaSeconds: 1 },
      { kind: 'step', step: 2, totalSteps: 2, evaluations: 16, etaSeconds: 0 },
      { kind: 'sampled', seconds: 1, windows: 8, evaluations: 16 },
      { kind: 'frames-encoded', frames: 8 },
      { kind: 'frames-encoded', frames: 16 },
    ];
    const seen = await run(m, job(), events);
    assert.deepEqual(seen, events, 'every event goes on to the job');
    const count = async (name: string) => (await series(m.registry, name)).find((v) => v.metricName === `${name}_count`)?.value;
    const sum = async (name: string) => (await series(m.registry, name)).find((v) => v.metricName === `${name}_sum`)?.value ?? 0;
    assert.equal(await count('propeller_job_first_step_seconds'), 1);
    assert.equal(await count('propeller_job_first_frame_seconds'), 1);
    assert.ok((await sum('propeller_job_first_step_seconds')) >= 5, 'measured from submit, queue wait included');
    assert.deepEqual((await series(m.registry, 'propeller_tenant_evaluations_total')).map((v) => [v.labels.tenant, v.value]), [['acme', 16]]);
  });

  it('a run resumed from a checkpoint counts neither first step nor the evaluations before the checkpoint', async () => {
    const m = new CoordinatorMetrics();
    await run(m, job({ tenant: '' }), [
      { kind: 'resumed', step: 5, totalSteps: 8, evaluations: 40 },
      { kind: 'step', step: 6, totalSteps: 8, evaluations: 48, etaSeconds: 1 },
      { kind: 'frames-encoded', frames: 4 },
    ]);
    const first = (await series(m.registry, 'propeller_job_first_step_seconds')).find((v) => v.metricName === 'propeller_job_first_step_seconds_count');
    assert.equal(first?.value, 0);
    assert.deepEqual((await series(m.registry, 'propeller_tenant_evaluations_total')).map((v) => [v.labels.tenant, v.value]), [['anonymous', 8]]);
  });
});
