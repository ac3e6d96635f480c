import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobClient } from '../../cli/job-client.ts';
import { createLogger } from '../../common/logger.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { startTestWorker } from '../helpers/servers.ts';

/**
 * An in-memory coordinator forgets its jobs on restart while their outputs
 * stay in the data directory: the next start says so, with where and how
 * many, instead of leaving files nobody can list or download.
 */
test('coordinator restart - outputs an in-memory coordinator can no longer list are reported at start', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'propeller-restart-'));
  const worker = await startTestWorker();
  const start = async () => {
    const lines: string[] = [];
    const log = createLogger('coordinator', { level: 'info', json: true, write: (line) => lines.push(line) });
    const coordinator = await startCoordinator({ listen: '127.0.0.1:0', dataDir, workers: [worker.address] }, log);
    const warned = () => lines.map((l) => JSON.parse(l) as { level: string; msg: string; outputs?: number; dir?: string }).filter((l) => l.level === 'warn' && /outputs of an earlier run/.test(l.msg));
    return { coordinator, warned };
  };
  try {
    const first = await start();
    assert.deepEqual(first.warned(), [], 'an empty data directory is nothing to report');
    const client = new JobClient(first.coordinator.address);
    const job = await client.submit({ model: 'field-mixture', prompt: 'lava', frames: 16, height: 128, width: 128, steps: 2, output: { format: 'latent' } });
    assert.equal((await client.watch(job.id, () => undefined)).state, 'SUCCEEDED');
    client.close();
    await first.coordinator.close();

    const second = await start();
    const again = new JobClient(second.coordinator.address);
    try {
      await assert.rejects(again.get(job.id), /NOT_FOUND|not found/);
      const [warning] = second.warned();
      assert.equal(warning?.outputs, 1);
      assert.equal(warning?.dir, join(dataDir, 'outputs'));
    } finally {
      again.close();
      await second.coordinator.close();
    }
  } finally {
    await worker.drain();
  }
});
