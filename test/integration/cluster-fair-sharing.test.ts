import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { ProcessCluster, follow, smallJob } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

interface Trace {
  /** [ms since submission, completed steps, evaluations] per progress event. */
  points: [number, number, number][];
  endMs: number;
}

/** Submits both jobs at once and records each one's progress over time. */
async function runTogether(client: JobClient, specs: JobSpec[]): Promise<Trace[]> {
  const t0 = Date.now();
  const jobs = await Promise.all(specs.map((s) => client.submit(s)));
  return Promise.all(
    jobs.map(async (job) => {
      const points: [number, number, number][] = [];
      const last = await follow(client, job.id, (j) => points.push([Date.now() - t0, j.progress?.step ?? 0, Number(j.progress?.evaluations ?? 0)]));
      assert.equal(last.state, 'SUCCEEDED', last.error);
      return { points, endMs: Date.now() - t0 };
    }),
  );
}

/** Last recorded value of `field` (1: steps, 2: evaluations) at or before `ms`. */
function at(trace: Trace, ms: number, field: 1 | 2): number {
  let v = 0;
  for (const p of trace.points) if (p[0] <= ms) v = p[field];
  return v;
}

test('cluster - two jobs submitted together on two workers progress at similar rates', { timeout: 90_000 }, async () => {
  const workers = await Promise.all([cluster.worker('fair-w0'), cluster.worker('fair-w1')]);
  // Every progress change is an event, so the midpoint reading is exact.
  const coordinator = await cluster.coordinator('fair-coordinator', workers, ['--max-jobs', '2', '--progress-interval-ms', '0']);
  const client = new JobClient(coordinator.address);
  try {
    // Same size, different seeds and prompts: 27 windows per step, 16 steps each.
    const size = { frames: 32, height: 256, width: 256 };
    const [a, b] = await runTogether(client, [smallJob(31, 16, size), { ...smallJob(32, 16, size), promptSchedule: [{ fromFrame: 0, prompt: 'ocean' }] }]);
    const mid = Math.min(a!.endMs, b!.endMs) / 2;
    const [sa, sb] = [at(a!, mid, 1), at(b!, mid, 1)];
    assert.ok(sa > 0 && sb > 0, `a job made no progress by the midpoint (${sa}, ${sb} steps at ${mid} ms)`);
    assert.ok(Math.max(sa, sb) / Math.min(sa, sb) <= 1.5, `steps at the midpoint (${mid} ms): ${sa} vs ${sb}`);

    // A job with 63 windows per step does not starve one with 27: the smaller
    // one is served first whenever it has work, so it keeps at least the pace
    // of the big one in steps.
    const [big, medium] = await runTogether(client, [smallJob(33, 12), smallJob(34, 12, size)]);
    const mid2 = Math.min(big!.endMs, medium!.endMs) / 2;
    const [sBig, sMedium] = [at(big!, mid2, 1), at(medium!, mid2, 1)];
    assert.ok(sMedium > 0 && sMedium * 1.5 >= sBig, `steps at the midpoint (${mid2} ms): big ${sBig} vs medium ${sMedium}`);
    assert.ok(medium!.endMs <= big!.endMs * 1.2, `the medium job ended at ${medium!.endMs} ms, the big one at ${big!.endMs} ms`);
  } finally {
    client.close();
  }
});
