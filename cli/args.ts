import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs with a --help flag and strict checking (unknown flags are errors). */
export function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, allowPositionals, strict: true });
  return { values: values as Record<string, string | boolean | undefined>, positionals };
}

/** parseArgs options for flags that each take one string and have no default. */
export function stringFlags(...names: string[]): Record<string, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
}

/** Settings the CLI took from the environment in main.ts. */
export interface CliEnv {
  address: string;
  logLevel: import('../common/logger.ts').LogLevel;
  modelDir: string;
  /** $PROPELLER_TOKEN: the job client's bearer token. */
  token?: string | undefined;
  /** $PROPELLER_TLS_CA: CA bundle the job client checks the coordinator's certificate against. */
  tlsCa?: string | undefined;
  /** $PROPELLER_TOKENS: the coordinator's stored tokens (`tenant:sha256hex[:admin]`, comma-separated). */
  tokens?: string | undefined;
  /** $PROPELLER_GPU_UUID, else the one GPU $NVIDIA_VISIBLE_DEVICES names by UUID: a worker's GPU (worker/gpu-identity.ts). */
  gpuUuid?: string | undefined;
}

/** A positive integer flag, or an error naming the flag. */
export function intFlag(name: string, value: unknown, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}
