import { z } from 'zod';
import { InvalidArgumentError } from '../../common/errors.ts';
import { MAX_CLIENT_REQUEST_ID_CHARS, MAX_DTYPE_CHARS, MAX_KEY_CHARS, MAX_MODEL_NAME_CHARS, MAX_PROMPT_CHARS, checkLength } from '../../common/request-limits.ts';
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
const word = (max = 32) => text(max).refine((s) => /^[A-Za-z0-9_.-]*$/.test(s), 'must be a single word of letters, digits, "_", "." or "-"');

const finite = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v), 'must be a finite number');

const tensor = z.looseObject({
  dtype: word(MAX_DTYPE_CHARS),
  shape: z.array(z.number()).max(8, 'has more than 8 dimensions'),
});

const jobSpec = z.looseObject({
  // Manifest names (common/manifest.ts): the model is looked up in the registry, never a path.
  model: text(MAX_MODEL_NAME_CHARS).refine((s) => s === '' || /^[a-z0-9][a-z0-9._-]*$/.test(s), 'must be a model name (lowercase letters, digits, ".", "_", "-")'),
  prompt: text(MAX_PROMPT_CHARS),
  promptSchedule: z.array(z.looseObject({ prompt: text(MAX_PROMPT_CHARS) })).max(256, 'has more than 256 segments'),
  negativePrompt: text(MAX_PROMPT_CHARS),
  scheduler: word(),
  eta: finite,
  guidance: finite,
  strength: finite.optional(),
  mode: word(),
  sampler: z.looseObject({ kind: word(), tolerance: finite, policy: word() }).nullish(),
  layout: z.looseObject({ blend: word(), noiseInit: word() }).nullish(),
  output: z.looseObject({ format: word() }).nullish(),
  input: z.looseObject({ kind: word() }).nullish(),
  conditioning: z
    .record(text(MAX_KEY_CHARS), tensor)
    .refine((m) => Object.keys(m).length <= 16, 'has more than 16 tensors'),
});

const submitRequest = z.looseObject({
  spec: jobSpec.nullish(),
  clientRequestId: text(MAX_CLIENT_REQUEST_ID_CHARS),
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

/**
 * The lengths of a Submit's naming fields (client request id, model,
 * conditioning tensor names), checked before anything else reads them: a
 * zod issue on a map names the key in its path, so an unbounded key would
 * be quoted whole into the status.
 */
export function checkSubmitNames(req: SubmitRequest__Output): void {
  checkLength('client_request_id', req.clientRequestId, MAX_CLIENT_REQUEST_ID_CHARS);
  if (!req.spec) return;
  checkLength('spec.model', req.spec.model, MAX_MODEL_NAME_CHARS);
  for (const key of Object.keys(req.spec.conditioning ?? {})) {
    if (key.length > MAX_KEY_CHARS) throw new InvalidArgumentError('spec.conditioning', `has a tensor name of ${key.length} characters, more than the limit ${MAX_KEY_CHARS}`);
  }
}

/** Throws InvalidArgumentError naming the first wrong field of a Submit request (after {@link checkSubmitNames}). */
export function checkSubmitRequest(req: SubmitRequest__Output): void {
  const parsed = submitRequest.safeParse(req);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  throw new InvalidArgumentError(fieldPath(issue.path), issue.message);
}
