import { parseArgs } from 'node:util';

/**
 * The command line of a bench: `--json` (a JSON line per row instead of a
 * table) and string options, each with its default or none, read strictly
 * (an unknown flag is an error).
 */

/** The values of `parseBenchArgs`: `json`, and each option as a string (or undefined when it has no default and was not given). */
export type BenchArgs<O extends Record<string, string | undefined>> = { json: boolean } & { [K in keyof O]: O[K] extends string ? string : string | undefined };

/** Parses `args` for `--json` and the options named in `defaults` (undefined: no default). */
export function parseBenchArgs<const O extends Record<string, string | undefined>>(args: string[], defaults: O): BenchArgs<O> {
  const options: Record<string, { type: 'string' | 'boolean'; default?: string }> = { json: { type: 'boolean' } };
  for (const [name, value] of Object.entries(defaults)) options[name] = value === undefined ? { type: 'string' } : { type: 'string', default: value };
  const { values } = parseArgs({ args, options });
  return { ...values, json: values.json === true } as BenchArgs<O>;
}

/** `v` as a positive integer; anything else is an error that names the flag. */
export function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(v)}`);
  return n;
}
