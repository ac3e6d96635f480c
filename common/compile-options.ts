import type { z } from 'zod';

/**
 * Options compiled in one step, as the coordinator and the worker do it:
 * zod fills the defaults and validates, and the result is frozen. The first
 * problem becomes an error that names the option, e.g.
 * `worker option maxBatch: Number must be greater than or equal to 1`.
 */
export function compileOptions<S extends z.ZodTypeAny>(schema: S, opts: z.input<S>, what: string): Readonly<z.output<S>> {
  const parsed = schema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${what} option ${issue.path.join('.')}: ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}
