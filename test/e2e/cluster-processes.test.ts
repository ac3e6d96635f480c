import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { spawnCliServer, type ChildServer } from '../../cli/worker-process.ts';
import { smallJob } from '../helpers/cluster.ts';
import { assertVideoStream, probeVideo } from '../helpers/ffprobe.ts';
import { referenceModelDir } from '../helpers/servers.ts';

const children: ChildServer[] = [];
after(async () => {
  await Promise.all(children.map((c) => c.stop(5_000)));
});

test('e2e - coordinator and two worker processes render an MP4 submitted over gRPC', { timeout: 240_000 }, async () => {
  const models = await referenceModelDir();
  const env = { PROPELLER_LOG_LEVEL: 'warn' };
  const workers = await Promise.all(
    [0, 1].map((i) => spawnCliServer(['worker', '--listen', '127.0.0.1:0', '--models', models, '--id', `e2e-worker-${i}`], { env })),
  );
  children.push(...workers);
  const dataDir = mkdtempSync(join(tmpdir(), 'propeller-e2e-'));
  const coordinator = await spawnCliServer(['coordinator', '--listen', '127.0.0.1:0', '--workers', workers.map((w) => w.address).join(','), '--data-dir', dataDir], { env });
  children.push(coordinator);
  assert.notEqual(coordinator.process.pid, process.pid);

  const client = new JobClient(coordinator.address);
  try {
    const { workers: listed } = await client.workers();
    assert.equal(listed.filter((w) => w.state === 'serving').length, 2);

    // "clouds", then "fire" from frame 16; 12 fps; MP4 at the default quality.
    const job = await client.submit({ ...smallJob(5, 6, { frames: 32, height: 192, width: 128 }), output: { format: 'mp4' } });
    const seen = new Set<string>();
    const last = await client.watch(job.id, (e) => seen.add(e.job!.state));
    assert.equal(last.state, 'SUCCEEDED', last.error);
    for (const s of ['RUNNING', 'ENCODING', 'SUCCEEDED']) assert.ok(seen.has(s), `no ${s} event`);
    assert.equal(last.progress!.framesEncoded, 32);
    // 3 chunks (starts 0, 8, 16) x 2 tile rows (48 latent rows: starts 0, 16) x 1 tile column, 6 steps
    assert.equal(Number(last.progress!.evaluations), 3 * 2 * 6);

    // Both workers took part.
    const after = await client.workers();
    assert.ok(after.workers.every((w) => w.evaluations > 0), JSON.stringify(after.workers.map((w) => w.evaluations)));

    const out = join(dataDir, 'download.mp4');
    const { bytes } = await client.download(job.id, out);
    assert.equal(statSync(out).size, bytes);
    const probe = await probeVideo(out);
    assertVideoStream(probe, { codec: 'h264', width: 128, height: 192, frames: 32, fps: 12, pixFmt: 'yuv420p' });
    // SIGTERM: each worker drains and exits cleanly; the coordinator marks it dead.
    for (const w of workers) {
      const exit = new Promise<number | null>((r) => w.process.once('exit', (code) => r(code)));
      await w.stop(30_000);
      assert.equal(await exit, 0, 'worker did not exit 0 after SIGTERM');
    }
    // Heartbeats every 2 s notice at once; 30 s is over 5x that on a busy machine.
    let states: string[] = [];
    for (let i = 0; i < 150; i++) {
      states = (await client.workers()).workers.map((w) => w.state);
      if (states.every((s) => s === 'dead')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(states, ['dead', 'dead']);
  } finally {
    client.close();
  }
});
