/**
 * The `/metrics` endpoints of a real worker and coordinator (in this
 * process, separate registries) after real jobs: the numbers agree with
 * each other and with the job records.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveMetrics, type MetricsServer } from '../../common/metrics-server.ts';
import type { CoordinatorHandle } from '../../coordinator/server.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { JobClient } from '../../cli/job-client.ts';
import { follow, smallJob } from '../helpers/cluster.ts';
import { startTestCoordinator, startTestWorker, testLog } from '../helpers/servers.ts';

/** Samples of a Prometheus text exposition: `name{labels}` -> value. */
async function scrape(address: string): Promise<{ contentType: string; samples: Map<string, number> }> {
  const res = await fetch(`http://${address}/metrics`);
  assert.equal(res.status, 200);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { contentType: res.headers.get('content-type') ?? '', samples };
}

/** Sum of the samples of `name` whose labels include every `key="value"` in `labels`. */
function total(samples: Map<string, number>, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const [k, v] of samples) {
    const base = k.includes('{') ? k.slice(0, k.indexOf('{')) : k;
    if (base === name && labels.every((l) => k.includes(l))) sum += v;
  }
  return sum;
}

describe('metrics - coordinator and worker endpoints', () => {
  let worker: WorkerHandle;
  let coordinator: CoordinatorHandle;
  let workerMetrics: MetricsServer;
  let coordinatorMetrics: MetricsServer;
  let client: JobClient;

  before(async () => {
    worker = await startTestWorker({ workerId: 'metrics-w0' });
    coordinator = await startTestCoordinator({ workers: [worker.address], progressIntervalMs: 0 });
    workerMetrics = await serveMetrics(worker.metrics.registry, '127.0.0.1:0', { log: testLog });
    coordinatorMetrics = await serveMetrics(coordinator.metrics.registry, '127.0.0.1:0', { log: testLog, processMetrics: true });
    client = new JobClient(coordinator.address);
  });

  after(async () => {
    client?.close();
    await coordinatorMetrics?.close();
    await workerMetrics?.close();
    await coordinator?.close();
    await worker?.drain();
  });

  it('serves Prometheus text on GET /metrics only', async () => {
    const { contentType, samples } = await scrape(coordinatorMetrics.address);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.ok(samples.has('process_cpu_seconds_total'), 'the process metrics were asked for');
    assert.ok(!(await scrape(workerMetrics.address)).samples.has('process_cpu_seconds_total'), 'and only where asked for');
    assert.equal((await fetch(`http://${coordinatorMetrics.address}/`)).status, 404);
    assert.equal((await fetch(`http://${coordinatorMetrics.address}/metrics`, { method: 'POST' })).status, 405);
    await assert.rejects(serveMetrics(worker.metrics.registry, 'nonsense', { log: testLog }), /host:port/);
  });

  it('after a job, coordinator and worker agree on evaluations, and the job is counted once with its rounds', async () => {
    const steps = 4;
    const job = await client.submit(smallJob(3, steps, { frames: 32, height: 128, width: 128 }));
    const end = await follow(client, job.id);
    assert.equal(end.state, 'SUCCEEDED');
    const c = (await scrape(coordinatorMetrics.address)).samples;
    const w = (await scrape(workerMetrics.address)).samples;
    const evaluations = Number(end.progress!.evaluations);
    assert.ok(evaluations > 0);
    assert.equal(total(c, 'propeller_worker_evaluations_total', ['worker="metrics-w0"']), evaluations);
    assert.equal(total(w, 'propeller_worker_evaluations_served_total'), evaluations);
    assert.equal(total(c, 'propeller_batch_size_items_sum'), evaluations);
    assert.equal(total(w, 'propeller_worker_batch_size_items_sum', ['method="evaluate"']), evaluations);
    assert.equal(total(c, 'propeller_batch_duration_seconds_count', ['method="evaluate"', 'outcome="ok"', 'worker="metrics-w0"']), total(c, 'propeller_batch_size_items_count'));
    assert.equal(total(c, 'propeller_jobs', ['state="SUCCEEDED"']), 1);
    assert.equal(total(c, 'propeller_jobs_completed_total', ['outcome="succeeded"']), 1);
    assert.equal(total(c, 'propeller_job_duration_seconds_count', ['outcome="succeeded"']), 1);
    assert.equal(total(c, 'propeller_round_duration_seconds_count', ['engine="sequential"']), steps);
    assert.equal(total(c, 'propeller_seam_ratio_count'), 2);
    assert.equal(total(c, 'propeller_workers', ['state="serving"']), 1);
    assert.equal(total(c, 'propeller_job_stalled_seconds'), 0);
    assert.ok(total(c, 'propeller_wire_bytes_total', ['direction="sent"']) > 0);
    assert.equal(total(w, 'propeller_worker_state', ['state="serving"']), 1);
    assert.equal(total(w, 'propeller_worker_info', ['worker_id="metrics-w0"', 'device="cpu"']), 1);
    assert.equal(total(w, 'propeller_worker_model_available', ['model="field-mixture"']), 1);
    assert.ok(total(w, 'propeller_worker_model_load_seconds', ['model="field-mixture"']) > 0);
  });

  it('a Picard job counts its iterations, and a canceled job is counted as canceled', async () => {
    const picard = await client.submit({ ...smallJob(4, 6, { frames: 32, height: 128, width: 128 }), sampler: { kind: 'picard', window: 3 } });
    assert.equal((await follow(client, picard.id)).state, 'SUCCEEDED');
    const before = (await scrape(coordinatorMetrics.address)).samples;
    assert.ok(total(before, 'propeller_picard_iterations_total') >= 2);
    assert.equal(total(before, 'propeller_picard_iterations_total'), total(before, 'propeller_round_duration_seconds_count', ['engine="picard"']));
    assert.equal(total(before, 'propeller_picard_stride_steps_sum'), 6, 'the strides add up to the steps');

    const long = await client.submit(smallJob(5, 200));
    let canceled = false;
    const end = await follow(client, long.id, (j) => {
      if (!canceled && Number(j.progress?.evaluations) > 0) {
        canceled = true;
        void client.cancel(long.id);
      }
    });
    assert.equal(end.state, 'CANCELED');
    const after = (await scrape(coordinatorMetrics.address)).samples;
    assert.equal(total(after, 'propeller_jobs_completed_total', ['outcome="canceled"']), 1);
    assert.equal(total(after, 'propeller_jobs', ['state="CANCELED"']), 1);
    assert.equal(total(after, 'propeller_jobs_completed_total', ['outcome="failed"']), 0);
  });
});
