/**
 * Latency profiles of the simulated device (`--device sim:<profile>`).
 *
 * THESE ARE A SIMULATION, NOT MEASUREMENTS OF A GPU. A simulated worker runs
 * the model for real on the CPU (its outputs are the real outputs), then
 * waits until the batch has taken as long as the profile says a GPU would:
 *
 *   seconds(batch of b items) = fixedMs + perItemMs * b.
 *
 * The numbers model a ~2B-parameter video DiT on one native window of the
 * reference model's geometry, 16 latent frames x 32 x 32 (4096 tokens with
 * 1x2x2 patches, ~2e13 FLOP per item, attention included):
 *
 * - per item: that work at a plausible utilisation — ~40-50 % of the bf16
 *   peak (A100 312 TFLOP/s -> ~110 ms, H100 989 TFLOP/s -> ~45 ms). A window
 *   of 4096 tokens keeps the GPU compute-bound even at batch 1, so batching
 *   saves little per item;
 * - fixed: what a batch costs regardless of its size — kernel launches,
 *   streaming the weights once, host<->device copies, framework overhead.
 *
 * A batch of 4 thus takes hundreds of milliseconds, as on a real GPU. The
 * host's own work per window — about 1 ms of ONNX Runtime and 1 ms of codec
 * and gRPC in a worker, about 3 ms in the coordinator (measured by `bench
 * cluster` on the 2-core dev machine) — is small next to one simulated GPU,
 * but not next to 32 of them: with h100-video, 16 or more workers keep more
 * than one of the two cores busy and the host, not the model, sets the pace.
 * `bench cluster` reports the host's CPU use per row and flags those rows.
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
    fixedMs: 40,
    perItemMs: 110,
    description: 'A100 80GB running a ~2B video DiT on 16x32x32-latent windows',
  },
  'h100-video': {
    name: 'h100-video',
    fixedMs: 20,
    perItemMs: 45,
    description: 'H100 80GB running a ~2B video DiT on 16x32x32-latent windows',
  },
  'l40s-video': {
    name: 'l40s-video',
    fixedMs: 50,
    perItemMs: 160,
    description: 'L40S 48GB running a ~2B video DiT on 16x32x32-latent windows',
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
