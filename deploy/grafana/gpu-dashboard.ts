/**
 * The GPU dashboard: NVIDIA's DCGM exporter's per-GPU metrics
 * (deploy/kubernetes/dcgm-exporter.yaml, the `dcgm-exporter` service of
 * deploy/docker/compose.yaml) joined to Propeller's workers.
 *
 * The join: each worker's `propeller_worker_info` carries `gpu_uuid`, the
 * UUID of the GPU it owns (worker/gpu-identity.ts), and every DCGM series
 * carries that GPU's `UUID`; `label_replace` renames one to the other and
 * `group_left (worker_id)` copies the worker id onto the GPU's series. On
 * Kubernetes the exporter's pod mapping also labels a GPU's series with the
 * `pod` and `namespace` holding it, and `Hostname` names the node.
 * test/integration/prometheus-gpu-dashboard.test.ts runs every query below
 * against a recorded exporter scrape and a real worker.
 */
import type { DashboardSpec, PanelSpec } from './panel-spec.ts';
import { WORKER_JOB, q, rate } from './queries.ts';

/** Scrape job of the DCGM exporter (the Service's name on Kubernetes, the job in deploy/prometheus/prometheus.yml). */
export const DCGM_JOB = 'dcgm-exporter';

/** Workers that know their GPU, one series per GPU UUID, labelled `UUID` as DCGM labels GPUs. */
const WORKER_GPU = `label_replace(max by (gpu_uuid, worker_id) (propeller_worker_info{job="${WORKER_JOB}", gpu_uuid!=""}), "UUID", "$1", "gpu_uuid", "(.+)")`;

/** A DCGM metric per worker: the GPU's series with its worker's id. */
const perWorker = (expr: string) => `${expr} * on (UUID) group_left (worker_id) ${WORKER_GPU}`;

/** A panel of one DCGM gauge on every GPU of every node, by node and GPU index. */
const perGpu = (title: string, description: string, expr: string, unit: string, type?: PanelSpec['type']): PanelSpec => ({
  title,
  description,
  targets: [q(`max by (Hostname, gpu, UUID) (${expr})`, '{{Hostname}} GPU {{gpu}}')],
  unit,
  ...(type ? { type } : {}),
});

const panels: PanelSpec[] = [
  {
    title: 'GPU utilisation by worker',
    description: "DCGM_FI_DEV_GPU_UTIL of each worker's GPU (share of time a kernel ran), joined to the worker by the GPU UUID it reports.",
    targets: [q(perWorker('DCGM_FI_DEV_GPU_UTIL'), '{{worker_id}}')],
    unit: 'percent',
  },
  {
    title: 'GPU busy: DCGM against Propeller',
    description: "Per worker: the GPU's utilisation from DCGM and the share of time the worker spends in ONNX Runtime on Evaluate calls. DCGM far above Propeller: something else uses the GPU; far below: time goes to copies and launch overhead.",
    targets: [
      q(perWorker('DCGM_FI_DEV_GPU_UTIL / 100'), 'dcgm {{worker_id}}'),
      q(
        `max by (worker_id) (${rate('propeller_worker_compute_seconds_total', `job="${WORKER_JOB}"`)} * on (job, instance) group_left (worker_id) propeller_worker_info{job="${WORKER_JOB}"})`,
        'propeller {{worker_id}}',
      ),
    ],
    unit: 'percentunit',
  },
  {
    title: 'Workers and their GPUs',
    description: 'Which GPU (node, index, model, UUID) each worker owns. A worker missing here reports no gpu_uuid (set --gpu-uuid or PROPELLER_GPU_UUID) or its GPU is not scraped.',
    targets: [q(`count by (worker_id, Hostname, gpu, modelName, UUID) (${perWorker('DCGM_FI_DEV_GPU_TEMP')})`, '{{worker_id}} {{Hostname}} GPU {{gpu}}')],
    type: 'table',
  },
  {
    title: 'GPU utilisation by pod (Kubernetes)',
    description: "DCGM_FI_DEV_GPU_UTIL of GPUs held by pods, by the exporter's Kubernetes pod mapping (its pod and namespace labels); GPUs no pod holds are left out.",
    targets: [q('max by (namespace, pod, Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL{pod!=""})', '{{namespace}}/{{pod}}')],
    unit: 'percent',
  },
  perGpu('GPU utilisation by node', 'DCGM_FI_DEV_GPU_UTIL of every GPU of every node, Propeller worker or not.', 'DCGM_FI_DEV_GPU_UTIL', 'percent'),
  {
    title: 'Framebuffer used',
    description: 'GPU memory in use (DCGM_FI_DEV_FB_USED, MiB in the exporter) per worker: model weights, ONNX Runtime arena and activations of the largest batch.',
    targets: [q(perWorker('DCGM_FI_DEV_FB_USED * 1048576'), '{{worker_id}}')],
    unit: 'bytes',
  },
  perGpu('Framebuffer used share', 'Used over used + free framebuffer of every GPU; near 1 a larger batch or another model will not fit.', 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)', 'percentunit'),
  perGpu('Power draw', 'DCGM_FI_DEV_POWER_USAGE of every GPU.', 'DCGM_FI_DEV_POWER_USAGE', 'watt'),
  perGpu('GPU temperature', 'DCGM_FI_DEV_GPU_TEMP of every GPU; sustained heat throttles clocks and slows its worker.', 'DCGM_FI_DEV_GPU_TEMP', 'celsius'),
  perGpu(
    'Last XID error',
    'DCGM_FI_DEV_XID_ERRORS: the last XID (driver-reported GPU error) code of each GPU, 0 when none. 48 (double-bit ECC), 79 (fallen off the bus) and the like need the node drained.',
    'DCGM_FI_DEV_XID_ERRORS',
    'short',
    'table',
  ),
  {
    title: 'ECC errors',
    description: 'Volatile ECC errors counted in the window by DCGM_FI_DEV_ECC_SBE_VOL_TOTAL (single-bit, corrected) and DCGM_FI_DEV_ECC_DBE_VOL_TOTAL (double-bit, uncorrectable: the GPU needs a reset).',
    targets: [
      q('sum by (Hostname, gpu) (increase(DCGM_FI_DEV_ECC_SBE_VOL_TOTAL[$__rate_interval]))', 'single-bit {{Hostname}} GPU {{gpu}}'),
      q('sum by (Hostname, gpu) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[$__rate_interval]))', 'double-bit {{Hostname}} GPU {{gpu}}'),
    ],
  },
];

/** The GPU dashboard (uid propeller-gpus). */
export const GPU_DASHBOARD: DashboardSpec = {
  uid: 'propeller-gpus',
  title: 'Propeller / GPUs',
  description: "GPU telemetry from NVIDIA's DCGM exporter, joined to Propeller's workers by the GPU UUID they report and to pods by the exporter's pod mapping.",
  variables: [],
  panels,
};
