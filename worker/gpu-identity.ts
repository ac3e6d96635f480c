/**
 * Which GPU a worker owns, by UUID: what joins the DCGM exporter's per-GPU
 * metrics (label `UUID`) to the worker's own (`propeller_worker_info`'s
 * `gpu_uuid`). The worker itself sees its GPU as `cuda:0`, which says
 * nothing about which of the node's GPUs it is.
 */

/** A GPU or MIG instance UUID as NVIDIA tools print it. */
export const GPU_UUID = /^(GPU|MIG)-[-\w]+$/;

/**
 * The GPU UUID in `NVIDIA_VISIBLE_DEVICES` when it names exactly one device
 * by UUID, as the Kubernetes device plugin sets it for a pod holding
 * `nvidia.com/gpu: 1`; undefined for indexes (`0`), lists, `all`, `none`
 * or nothing, where the UUID must be given (`--gpu-uuid`, `PROPELLER_GPU_UUID`).
 */
export function visibleGpuUuid(visibleDevices: string | undefined): string | undefined {
  const value = visibleDevices?.trim();
  return value && GPU_UUID.test(value) ? value : undefined;
}
