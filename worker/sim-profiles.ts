/**
 * Latency profiles of the simulated device (`--device sim:<profile>`).
 *
 * THESE ARE A SIMULATION, NOT MEASUREMENTS OF A GPU. A simulated worker runs
 * the model for real on the CPU (its outputs are the real outputs), then
 * waits until the batch has taken as long as the profile says a GPU would:
 *
 *   seconds(batch of b items) = fixedMs + perItemMs * b.
 *
 * The numbers model a ~14B-parameter video DiT (40 layers, hidden 5120: the
 * size of the large open video models) on one native window of the
 * reference model's geometry, 16 latent frames x 32 x 32 = 4096 tokens with
 * 1x2x2 patches:
 *
 * - per item: 2 x 14e9 x 4096 = 1.15e14 FLOP in the linear layers plus
 *   4 x 4096^2 x 5120 x 40 = 1.4e13 in self-attention, ~1.3e14 FLOP, at
 *   45 % of the dense bf16 peak (H100 SXM 989 TFLOP/s -> 290 ms, A100 312 ->
 *   910 ms, L40S 362 -> 790 ms). A window of 4096 tokens keeps the GPU
 *   compute-bound even at batch 1, so batching saves little per item;
 * - fixed: what a batch costs regardless of its size — streaming 28 GB of
 *   bf16 weights once (H100 3.35 TB/s: 8 ms, A100 2 TB/s: 14 ms, L40S
 *   0.86 TB/s: 33 ms) plus ~12 ms of kernel launches, host<->device copies
 *   and framework overhead.
 *
 * `h200-video` is MEASURED, not derived: bench/gpu/dit_latency.py ran a
 * network of this shape (14.2e9 parameters, random bf16 weights, PyTorch 2.11
 * with its SDPA attention kernels) on an H200, 4096-token windows: 190 ms at
 * batch 1, 392 at 2, 801 at 4, 1552 at 8 (medians of 3), fitted by
 * 4.8 ms + 194.3 ms/item — 580-610 TFLOP/s, 59-62 % of the bf16 peak, so
 * the 45 % assumed above is conservative (an H100, with the same peak,
 * would be nearer 200 ms/item than 290).
 *
 * A batch therefore takes hundreds of milliseconds, as a real GPU running a
 * real video model does. The host's own work per window — about 1 ms of
 * ONNX Runtime and 1 ms of codec and gRPC in a worker, 1-3 ms in the
 * coordinator (measured by `bench cluster` on the 2-core dev machine) —
 * stays small next to that even with 32 simulated workers (32 / 290 ms =
 * 110 windows/s, about half a core), so the bench measures the dispatcher
 * and the coordinator's critical path, not this machine's CPU. `bench
 * cluster` reports the host's CPU use per row and flags rows where it is not
 * negligible. (An earlier profile modelled a ~2B DiT at 45 ms/item; with 16
 * or more such workers this 2-core host, not the simulated GPUs, set the pace.)
 */

/** One simulated GPU: latency of a batch is `fixedMs + perItemMs * items`. */
export interface SimProfile {
  readonly name: string;
  readonly fixedMs: number;
  readonly perItemMs: number;
  readonly description: string;
}

/** Known profiles by name. */
export const SIM_PROFILES: Readonly<Record<string, SimProfile>> = Object.freeze({
  'a100-video': {
    name: 'a100-video',
    fixedMs: 26,
    perItemMs: 910,
    description: 'A100 80GB running a ~14B video DiT on 16x32x32-latent windows',
  },
  'h200-video': {
    name: 'h200-video',
    fixedMs: 5,
    perItemMs: 194,
    description: 'H200 running a ~14B video DiT on 16x32x32-latent windows, fitted to a measurement (bench/gpu/dit_latency.py)',
  },
  'h100-video': {
    name: 'h100-video',
    fixedMs: 20,
    perItemMs: 290,
    description: 'H100 80GB running a ~14B video DiT on 16x32x32-latent windows',
  },
  'l40s-video': {
    name: 'l40s-video',
    fixedMs: 45,
    perItemMs: 790,
    description: 'L40S 48GB running a ~14B video DiT on 16x32x32-latent windows',
  },
});

/** Prefix of a simulated device string. */
export const SIM_PREFIX = 'sim:';

/** Names of the known profiles, sorted. */
export function simProfileNames(): string[] {
  return Object.keys(SIM_PROFILES).sort();
}

/** True when `device` names a simulated device (valid or not). */
export function isSimDevice(device: string): boolean {
  return device.startsWith(SIM_PREFIX);
}

/**
 * The profile of a `sim:<profile>` device string; throws an Error listing the
 * known profiles when the name is unknown.
 */
export function simProfileOf(device: string): SimProfile {
  const problem = simDeviceProblem(device);
  if (problem) throw new Error(problem);
  return SIM_PROFILES[device.slice(SIM_PREFIX.length)]!;
}

/** Why `device` is not a valid simulated device, or undefined when it is one. */
export function simDeviceProblem(device: string): string | undefined {
  if (!isSimDevice(device)) return `"${device}" is not a simulated device (sim:<profile>)`;
  const name = device.slice(SIM_PREFIX.length);
  if (!Object.hasOwn(SIM_PROFILES, name)) {
    return `unknown simulated device profile "${name}" (known: ${simProfileNames().join(', ')})`;
  }
  return undefined;
}

/** Modelled seconds of one batch of `items` on `profile`. */
export function modelledSeconds(profile: SimProfile, items: number): number {
  return (profile.fixedMs + profile.perItemMs * items) / 1000;
}

/** One line naming the profile and its model, for logs and bench headers. */
export function describeSimProfile(p: SimProfile): string {
  return `sim:${p.name} (SIMULATED: ${p.fixedMs} ms + ${p.perItemMs} ms/item per batch; ${p.description})`;
}
