/**
 * The GPU dashboard against a real Prometheus: a recorded DCGM exporter
 * scrape (test/fixtures/dcgm-exporter-scrape.prom: three GPUs, two held by
 * worker pods) served over HTTP as the exporter serves it, and two real
 * workers in this process reporting the UUIDs of GPUs 0 and 1 on their
 * `/metrics`. Every panel query must return data, and the joins must put
 * each GPU's numbers on the worker that owns it. Needs Debian's prometheus
 * package (npm test installs it through scripts/test-prepare.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveMetrics, type MetricsServer } from '../../common/metrics-server.ts';
import { WORKER_JOB, dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { DCGM_JOB, GPU_DASHBOARD } from '../../deploy/grafana/gpu-dashboard.ts';
import { ROOT } from '../../deploy/generate.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startPrometheus, type PromResult, type TestPrometheus } from '../helpers/prometheus.ts';
import { startTestWorker, testLog } from '../helpers/servers.ts';

const FIXTURE = join(ROOT, 'test/fixtures/dcgm-exporter-scrape.prom');
const GPU0 = 'GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256';
const GPU1 = 'GPU-3c5b2e71-9a04-4d8e-b1f6-2d7e90c4a815';

/** worker_id -> value of a per-worker panel's result. */
const byWorker = (r: PromResult[]) => Object.fromEntries(r.map((s) => [s.metric.worker_id, Number(s.value[1])]));

describe('prometheus - the GPU dashboard against a recorded DCGM exporter scrape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-prometheus-gpu-'));
  let exporter: Server;
  let prometheus: TestPrometheus;
  const workers: { worker: WorkerHandle; metrics: MetricsServer }[] = [];
  const query = (expr: string) => prometheus.query(expr.replaceAll('$__rate_interval', '1m'));

  before(async () => {
    const scrape = readFileSync(FIXTURE);
    // The exporter's /metrics, byte for byte the recorded scrape.
    exporter = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(scrape));
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    for (const [i, gpuUuid] of [GPU0, GPU1].entries()) {
      const worker = await startTestWorker({ workerId: `propeller-worker-${i}`, gpuUuid });
      workers.push({ worker, metrics: await serveMetrics(worker.metrics.registry, '127.0.0.1:0', { log: testLog }) });
    }
    const port = (exporter.address() as { port: number }).port;
    prometheus = await startPrometheus(
      {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          // As the ServiceMonitor in deploy/kubernetes/dcgm-exporter.yaml: the exporter's pod labels win.
          { job_name: DCGM_JOB, honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
          { job_name: WORKER_JOB, static_configs: [{ targets: workers.map((w) => w.metrics.address) }] },
        ],
      },
      dir,
      3,
    );
    // Rates and increases need two scrapes of each target.
    await waitForSamples(() => query('count(count_over_time(DCGM_FI_DEV_GPU_UTIL[1m]) >= 2) == 3'));
    await waitForSamples(() => query(`count(count_over_time(propeller_worker_compute_seconds_total{job="${WORKER_JOB}"}[1m]) >= 2) == 2`));
  });

  after(async () => {
    await prometheus?.stop();
    for (const w of workers) {
      await w.metrics.close();
      await w.worker.drain();
    }
    exporter?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every panel query returns finite data', async (t) => {
    const empty: string[] = [];
    for (const { panel, target } of dashboardQueries(GPU_DASHBOARD)) {
      const result = await query(target.expr);
      const finite = result.filter((r) => Number.isFinite(Number(r.value[1]))).length;
      t.diagnostic(`${panel} [${target.legend}]: ${result.length} series, ${finite} finite`);
      if (finite === 0) empty.push(`${panel}: ${target.expr} -> ${result.length} series`);
    }
    assert.deepEqual(empty, [], 'panels without data');
    assert.ok(dashboardQueries(GPU_DASHBOARD).length >= 12);
  });

  it("the joins put each GPU's numbers on the worker that owns it, and leave the unowned GPU out", async () => {
    const panel = (title: string) => GPU_DASHBOARD.panels.find((p) => p.title === title)!.targets;
    assert.deepEqual(byWorker(await query(panel('GPU utilisation by worker')[0]!.expr)), { 'propeller-worker-0': 91, 'propeller-worker-1': 87 });
    assert.deepEqual(byWorker(await query(panel('Framebuffer used')[0]!.expr)), { 'propeller-worker-0': 37776 * 1048576, 'propeller-worker-1': 40004 * 1048576 });
    const [dcgm, propeller] = panel('GPU busy: DCGM against Propeller');
    assert.deepEqual(byWorker(await query(dcgm!.expr)), { 'propeller-worker-0': 0.91, 'propeller-worker-1': 0.87 });
    // Idle workers: no time in ONNX Runtime.
    assert.deepEqual(byWorker(await query(propeller!.expr)), { 'propeller-worker-0': 0, 'propeller-worker-1': 0 });
    const table = await query(panel('Workers and their GPUs')[0]!.expr);
    assert.deepEqual(
      table.map((s) => [s.metric.worker_id, s.metric.Hostname, s.metric.gpu, s.metric.UUID, s.metric.modelName]).sort(),
      [
        ['propeller-worker-0', 'gpu-node-1', '0', GPU0, 'NVIDIA H100 80GB HBM3'],
        ['propeller-worker-1', 'gpu-node-1', '1', GPU1, 'NVIDIA H100 80GB HBM3'],
      ],
    );
    const pods = await query(panel('GPU utilisation by pod (Kubernetes)')[0]!.expr);
    assert.deepEqual(pods.map((s) => `${s.metric.namespace}/${s.metric.pod}`).sort(), ['propeller/propeller-worker-0', 'propeller/propeller-worker-1']);
    // Every GPU of the node, owned or not.
    assert.equal((await query(panel('GPU utilisation by node')[0]!.expr)).length, 3);
    const ecc = await query(panel('ECC errors')[0]!.expr);
    assert.deepEqual(ecc.map((s) => Number(s.value[1])), [0, 0, 0], 'a recorded counter that does not move increases by 0');
  });
});

/** Waits (up to 30 s, scrapes are 1 s apart) until `probe` returns a series. */
async function waitForSamples(probe: () => Promise<PromResult[]>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await probe()).length === 0) {
    if (Date.now() > deadline) throw new Error('Prometheus did not get two scrapes of every target in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}
