import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { ProcessCluster, downloadBytes, follow, smallJob, waitFor, workerStatus } from '../helpers/cluster.ts';
import { NetNamespace } from '../helpers/netns.ts';
import { referenceModelDir } from '../helpers/servers.ts';

/**
 * Link faults between the coordinator and one of its two workers, which
 * runs in a network namespace of its own joined by a veth link
 * (test/helpers/netns.ts; needs root and iproute2): the link rate-limited to
 * 20 Mbit/s both ways, taken down mid-job, and its replies black-holed
 * (requests arrive, nothing comes back) mid-job. Every job ends SUCCEEDED
 * with the latent of the same job on healthy links, bit for bit.
 */
const cluster = new ProcessCluster();
const f = {} as { ns: NetNamespace; remote: ChildServer; local: ChildServer; client: JobClient; reference: Buffer; referenceSeconds: number };

before(async () => {
  f.ns = NetNamespace.create();
  f.local = await cluster.worker('net-local');
  const models = await referenceModelDir();
  const lines: string[] = [];
  cluster.logs.set('net-remote', lines);
  f.remote = await spawnCliServer(['worker', '--listen', `${f.ns.nsIp}:0`, '--models', models, '--id', 'net-remote'], { prefix: f.ns.prefix, env: { PROPELLER_LOG_LEVEL: 'info' }, stderr: (l) => lines.push(l) });
  cluster.children.push(f.remote);
  // Calls on a dead link time out after 3 s; heartbeats notice a link back within half a second.
  const coordinator = await cluster.coordinator('net-coordinator', [f.local, f.remote], ['--batch-timeout-ms', '3000', '--probe-interval-ms', '500', '--max-failures', '2']);
  f.client = new JobClient(coordinator.address);
  const started = performance.now();
  const job = await f.client.submit(smallJob(31, 6));
  assert.equal((await follow(f.client, job.id)).state, 'SUCCEEDED');
  f.referenceSeconds = (performance.now() - started) / 1000;
  f.reference = await downloadBytes(f.client, job.id, cluster.dataDir);
});

after(async () => {
  f.client?.close();
  await cluster.stop();
  f.ns?.destroy();
});

/** Runs the reference job with `during(evaluations)` called on every event; returns its latent and seconds. */
async function runJob(during: (evaluations: number) => void): Promise<{ latent: Buffer; seconds: number }> {
  const started = performance.now();
  const job = await f.client.submit(smallJob(31, 6));
  const end = await follow(f.client, job.id, (j) => during(Number(j.progress?.evaluations ?? 0)));
  assert.equal(end.state, 'SUCCEEDED', end.error);
  return { latent: await downloadBytes(f.client, job.id, cluster.dataDir), seconds: (performance.now() - started) / 1000 };
}

async function remoteServing(): Promise<void> {
  await waitFor('the remote worker to serve again', 30_000, async () => ((await workerStatus(f.client, f.remote.address))?.state === 'serving' ? true : undefined));
}

test('network - a worker behind a 20 Mbit/s link: the job succeeds with the same latent', { timeout: 180_000 }, async (t) => {
  await remoteServing();
  f.ns.rateLimit(20);
  try {
    const { latent, seconds } = await runJob(() => undefined);
    assert.ok(latent.equals(f.reference), 'the latent differs from the healthy-link run');
    t.diagnostic(`20 Mbit/s link: ${seconds.toFixed(1)} s against ${f.referenceSeconds.toFixed(1)} s on healthy links`);
  } finally {
    f.ns.clearRateLimit();
  }
});

/**
 * Runs the reference job, applies `cut` once 150 evaluations are done and
 * `restore` 3 s later; the job must end with the healthy run's latent, and
 * the remote worker serve again.
 */
async function cutMidJob(cut: () => void, restore: () => void): Promise<void> {
  await remoteServing();
  let done = false;
  let restored = false;
  let timer: NodeJS.Timeout | undefined;
  const heal = () => {
    if (done && !restored) {
      restored = true;
      restore();
    }
  };
  try {
    const { latent } = await runJob((evaluations) => {
      if (!done && evaluations >= 150) {
        done = true;
        cut();
        timer = setTimeout(heal, 3_000);
      }
    });
    assert.ok(done, 'the link was not cut mid-job');
    assert.ok(latent.equals(f.reference), 'the latent differs from the healthy-link run');
  } finally {
    clearTimeout(timer);
    heal();
  }
  await remoteServing();
}

test('network - the link taken down mid-job and back 3 s later: the job succeeds with the same latent, the worker comes back', { timeout: 180_000 }, async () => {
  await cutMidJob(
    () => f.ns.linkDown(),
    () => f.ns.linkUp(),
  );
});

test('network - the worker\'s replies black-holed mid-job (one-way partition) for 3 s: the job succeeds with the same latent', { timeout: 180_000 }, async () => {
  await cutMidJob(
    () => f.ns.dropReplies(),
    () => f.ns.restoreReplies(),
  );
});
