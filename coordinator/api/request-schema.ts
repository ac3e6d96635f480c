import { z } from 'zod';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { SubmitRequest__Output } from '../../common/proto/generated/propeller/v1/SubmitRequest.ts';

/**
 * Wire-level checks of a Submit request, before any meaning is read into it
 * (coordinator/jobs/spec.ts does that against the model and the limits):
 * every double is finite (a NaN would otherwise slip through `x || default`),
 * every string is bounded and free of control characters, lists and maps
 * are bounded, names look like names. Errors name the field as the .proto
 * does (`spec.sampler.tolerance`, `spec.prompt_schedule[2].prompt`).
 */

const CONTROL = /[\u0000-\u001f\u007f]/;

const text = (max: number) =>
  z
    .string()
    .max(max, `is longer than ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** A word from a fixed list: scheduler, format, mode...; the list itself is checked later. */
const word = text(32).refine((s) => /^[A-Za-z0-9_.-]*$/.test(s), 'must be a single word of letters, digits, "_", "." or "-"');

const finite = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v), 'must be a finite number');

const tensor = z.looseObject({
  dtype: word,
  shape: z.array(z.number()).max(8, 'has more than 8 dimensions'),
});

const jobSpec = z.looseObject({
  // Manifest names (common/manifest.ts): the model is looked up in the registry, never a path.
  model: text(128).refine((s) => s === '' || /^[a-z0-9][a-z0-9._-]*$/.test(s), 'must be a model name (lowercase letters, digits, ".", "_", "-")'),
  prompt: text(1000),
  promptSchedule: z.array(z.looseObject({ prompt: text(1000) })).max(256, 'has more than 256 segments'),
  negativePrompt: text(1000),
  scheduler: word,
  eta: finite,
  guidance: finite,
  strength: finite.optional(),
  mode: word,
  sampler: z.looseObject({ kind: word, tolerance: finite, policy: word }).nullish(),
  layout: z.looseObject({ blend: word, noiseInit: word }).nullish(),
  output: z.looseObject({ format: word }).nullish(),
  input: z.looseObject({ kind: word }).nullish(),
  conditioning: z
    .record(text(64), tensor)
    .refine((m) => Object.keys(m).length <= 16, 'has more than 16 tensors'),
});

const submitRequest = z.looseObject({
  spec: jobSpec.nullish(),
  clientRequestId: text(200),
});

/** camelCase path -> the .proto's snake_case field path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += `${out ? '.' : ''}${String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
  }
  return out || 'request';
}

/** Throws InvalidArgumentError naming the first wrong field of a Submit request. */
export function checkSubmitRequest(req: SubmitRequest__Output): void {
  const parsed = submitRequest.safeParse(req);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  throw new InvalidArgumentError(fieldPath(issue.path), issue.message);
}
