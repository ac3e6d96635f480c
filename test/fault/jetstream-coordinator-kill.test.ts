import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { JobClient } from '../../cli/job-client.ts';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import { readLatent } from '../../coordinator/video/latent-file.ts';
import { downloadBytes, exited, smallJob, waitFor } from '../helpers/cluster.ts';
import { natsProcessCluster } from '../helpers/nats-cluster.ts';

/**
 * High availability on a real NATS JetStream server this file starts, with
 * real processes: two coordinators share one queue; the one running a job
 * is killed with SIGKILL half way and the other resumes the job from its
 * checkpoint; then every coordinator is restarted and the finished jobs and
 * their outputs are still there. Without nats-server this test fails; it
 * never skips. The server's store, streams and buckets go away with the file.
 */
const prefix = `ptest-ha-${process.pid}-${randomBytes(3).toString('hex')}`;
const workerBucket = `${prefix}-workers`;
const fixture = natsProcessCluster();
const { cluster } = fixture;
const STEPS = 12;
const ACK_WAIT_MS = 3_000;

/** The jobs a coordinator's log says it finished. */
function succeededIn(name: string): string[] {
  return cluster
    .log(name)
    .filter((l) => l.includes('job succeeded'))
    .map((l) => /job=(\S+)/.exec(l)?.[1] ?? '');
}

test('jetstream HA - kill -9 the coordinator running a job half way: the other resumes it from its checkpoint; all survive a restart of every coordinator', { timeout: 420_000 }, async (t) => {
  const flags = ['--nats', fixture.nats.url, '--nats-bucket', workerBucket, '--nats-prefix', prefix, '--nats-ack-wait-ms', String(ACK_WAIT_MS), '--checkpoint-interval-ms', '0', '--max-jobs', '2'];
  const workers = [await cluster.worker('ha-w0'), await cluster.worker('ha-w1')];
  const survivor = await cluster.coordinator('ha-c0', workers, flags);
  const victim = await cluster.coordinator('ha-c1', workers, flags);
  const client = new JobClient(survivor.address);
  try {
    // 1. Six jobs through the survivor; both coordinators take them from the shared queue.
    const specs = Array.from({ length: 6 }, (_, i) => smallJob(100 + i, STEPS));
    const submitted = await Promise.all(specs.map((s, i) => client.submit(s, `ha-submit-${i}`)));
    const ids = submitted.map((j) => j.id);
    const events = new Map<string, { message: string; step: number }[]>(ids.map((id) => [id, []]));
    const latest = new Map<string, Job__Output>();
    // Watched through the survivor, whichever coordinator runs them.
    const finished = ids.map((id) =>
      client.watch(id, (e) => {
        if (!e.job) return;
        latest.set(id, e.job);
        events.get(id)!.push({ message: e.message, step: e.job.progress?.step ?? 0 });
      }),
    );

    // 2. Kill the victim while a job it runs is between a third and three quarters done.
    const runningOnVictim = (id: string) => cluster.log('ha-c1').some((l) => l.includes('job running') && l.includes(`job=${id}`));
    const target = await waitFor('a job half way on the coordinator to kill', 240_000, () =>
      ids.find((id) => {
        const step = latest.get(id)?.progress?.step ?? 0;
        return runningOnVictim(id) && latest.get(id)?.state === 'RUNNING' && step >= STEPS / 3 && step <= (3 * STEPS) / 4;
      }),
    );
    const stepAtKill = latest.get(target)!.progress!.step;
    victim.process.kill('SIGKILL');
    await exited(victim);
    const killedAt = Date.now();

    // 3. Every job succeeds; the killed job resumed on the survivor from a checkpoint (step > 0).
    const done = await Promise.all(finished);
    for (const j of done) assert.equal(j.state, 'SUCCEEDED', `${j.id}: ${j.error}`);
    const resumed = events.get(target)!.find((e) => e.message.startsWith('resumed from checkpoint at step'));
    assert.ok(resumed, `no resume event for ${target}: ${events.get(target)!.map((e) => e.message).join(' | ')}`);
    const resumeStep = Number(/at step (\d+)/.exec(resumed.message)![1]);
    // The kill lands a moment after the event that triggered it: the victim may have checkpointed a step more.
    assert.ok(resumeStep > 0 && resumeStep < STEPS, `resumed at step ${resumeStep}, killed at step ${stepAtKill}`);
    assert.equal(resumed.step, resumeStep);
    const record = await client.get(target);
    assert.equal(record.metrics.resumed_from_step, resumeStep);
    assert.ok(cluster.log('ha-c0').some((l) => l.includes('job taken over') && l.includes(`job=${target}`)));

    // None ran twice to completion: each job finished exactly once, across both coordinators.
    const finishes = [...succeededIn('ha-c0'), ...succeededIn('ha-c1')];
    for (const id of ids) assert.equal(finishes.filter((f) => f === id).length, 1, `${id} finished ${finishes.filter((f) => f === id).length} times`);
    assert.ok(!succeededIn('ha-c1').includes(target), 'the killed coordinator cannot have finished the job');

    // 4. The resumed job's latent is bit for bit the latent of an uninterrupted run.
    const again = await client.submit(specs[ids.indexOf(target)]!, 'ha-reference');
    const reference = await client.watch(again.id, () => {});
    assert.equal(reference.state, 'SUCCEEDED', reference.error);
    const outputs = new Map<string, Buffer>();
    for (const id of [...ids, again.id]) outputs.set(id, await downloadBytes(client, id, cluster.dataDir));
    assert.equal(outputs.get(target)!.length, outputs.get(again.id)!.length);
    assert.ok(outputs.get(target)!.equals(outputs.get(again.id)!), 'resumed latent differs from the uninterrupted run');
    assert.deepEqual(readLatent(outputs.get(target)!).shape, [4, 64, 64, 64]);

    // 5. Restart every coordinator: the finished jobs are listed and their outputs download intact.
    client.close();
    await survivor.stop();
    const fresh = [await cluster.coordinator('ha-c2', workers, flags), await cluster.coordinator('ha-c3', workers, flags)];
    for (const [k, c] of fresh.entries()) {
      const fc = new JobClient(c.address);
      try {
        const listed = await fc.list();
        const mine = new Set([...ids, again.id]);
        const ours = listed.filter((j) => mine.has(j.id));
        assert.equal(ours.length, 7, `coordinator ${k} lists ${ours.length} of the 7 jobs`);
        for (const j of ours) assert.equal(j.state, 'SUCCEEDED');
        for (const id of mine) {
          const bytes = await downloadBytes(fc, id, cluster.dataDir);
          assert.ok(bytes.equals(outputs.get(id)!), `output of ${id} changed across the restart`);
        }
        // Idempotent submit still answers with the job made before the restart, and runs nothing.
        assert.equal((await fc.submit(specs[0]!, 'ha-submit-0')).id, ids[0]);
      } finally {
        fc.close();
      }
    }
    t.diagnostic(`killed ${target} at step ${stepAtKill}; resumed at step ${resumeStep}; all done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  } finally {
    client.close();
  }
});
