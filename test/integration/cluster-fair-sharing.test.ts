import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { ProcessCluster, follow, smallJob } from '../helpers/cluster.ts';

const cluster = new ProcessCluster();
after(() => cluster.stop());

/**
 * Progress is compared by counts, never by wall-clock time: each progress
 * event of either job is numbered in the order it arrives, and the jobs are
 * compared at the event where the work done by both together (evaluations)
 * reaches half of their total, or where one of them has done all its work. A slow or busy
 * machine slows both jobs alike and changes none of these counts.
 * (test/unit/cluster-dispatcher-order.test.ts checks the same sharing in virtual time.)
 */
interface Trace {
  /** [arrival number, completed steps, evaluations] per progress event. */
  points: [number, number, number][];
  /** Arrival number of its last event. */
  end: number;
}

/** Submits both jobs at once and records each one's progress in arrival order. */
async function runTogether(client: JobClient, specs: JobSpec[]): Promise<Trace[]> {
  let arrivals = 0;
  const jobs = await Promise.all(specs.map((s) => client.submit(s)));
  return Promise.all(
    jobs.map(async (job) => {
      const points: [number, number, number][] = [];
      const last = await follow(client, job.id, (j) => points.push([arrivals++, j.progress?.step ?? 0, Number(j.progress?.evaluations ?? 0)]));
      assert.equal(last.state, 'SUCCEEDED', last.error);
      return { points, end: points.at(-1)![0] };
    }),
  );
}

/** Last recorded value of `field` (1: steps, 2: evaluations) at or before arrival `n`. */
function at(trace: Trace, n: number, field: 1 | 2): number {
  let v = 0;
  for (const p of trace.points) if (p[0] <= n) v = p[field];
  return v;
}

/** The arrival number at which a job had done all its evaluations. */
function doneAt(trace: Trace): number {
  const total = at(trace, trace.end, 2);
  return trace.points.find((p) => p[2] === total)![0];
}

/** The arrival number at which the evaluations of both jobs together first reach half their total. */
function halfway(a: Trace, b: Trace): number {
  const total = at(a, a.end, 2) + at(b, b.end, 2);
  const arrivals = [...a.points, ...b.points].map((p) => p[0]).sort((x, y) => x - y);
  return arrivals.find((n) => 2 * (at(a, n, 2) + at(b, n, 2)) >= total)!;
}

test('cluster - two jobs submitted together on two workers progress at similar rates', { timeout: 300_000 }, async () => {
  const workers = await Promise.all([cluster.worker('fair-w0'), cluster.worker('fair-w1')]);
  // Every progress change is an event, so each reading is exact.
  const coordinator = await cluster.coordinator('fair-coordinator', workers, ['--max-jobs', '2', '--progress-interval-ms', '0']);
  const client = new JobClient(coordinator.address);
  try {
    // Same size, different seeds and prompts: 27 windows per step, 16 steps each.
    const size = { frames: 32, height: 256, width: 256 };
    const [a, b] = await runTogether(client, [smallJob(31, 16, size), { ...smallJob(32, 16, size), promptSchedule: [{ fromFrame: 0, prompt: 'ocean' }] }]);
    const mid = halfway(a!, b!);
    const [sa, sb] = [at(a!, mid, 1), at(b!, mid, 1)];
    assert.ok(sa > 0 && sb > 0, `a job made no progress by half the work (${sa}, ${sb} steps)`);
    assert.ok(Math.max(sa, sb) / Math.min(sa, sb) <= 1.5, `steps at half the work: ${sa} vs ${sb}`);

    // A job with 63 windows per step does not starve one with 27: the
    // smaller one is served first whenever it has work, so it keeps at least
    // the pace of the big one in steps and is done first. (It gets fewer
    // items than the big one meanwhile: between its steps it has nothing
    // queued, and idle workers take the big one's.)
    const [big, medium] = await runTogether(client, [smallJob(33, 12), smallJob(34, 12, size)]);
    const mid2 = halfway(big!, medium!);
    const [sBig, sMedium] = [at(big!, mid2, 1), at(medium!, mid2, 1)];
    assert.ok(sMedium > 0 && sMedium * 1.5 >= sBig, `steps at half the work: big ${sBig} vs medium ${sMedium}`);
    assert.ok(doneAt(medium!) < doneAt(big!), `the big job was done first; the medium one had ${at(medium!, doneAt(big!), 1)} of 12 steps then`);
  } finally {
    client.close();
  }
});
