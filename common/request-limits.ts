import { InvalidArgumentError } from './errors.ts';

/**
 * Fixed lengths of the request fields that name something, on both services.
 * A naming field is checked against its limit before anything else reads it,
 * so no other check (lookups, error messages) ever sees unbounded text.
 * The configurable per-job limits (frames, steps, queue sizes) are in
 * coordinator/jobs/limits.ts; the message size in common/grpc-options.ts.
 */

/** Model names (Submit `spec.model`; Evaluate, Decode and Encode `model`). */
export const MAX_MODEL_NAME_CHARS = 128;
/** Conditioning keys: Submit `spec.conditioning` tensor names and Evaluate item conditioning keys. */
export const MAX_KEY_CHARS = 128;
/** Tensor dtypes (`float16`, `float32`, `int64`, `uint8`). */
export const MAX_DTYPE_CHARS = 16;
/** Job ids in Get, Cancel, Watch and Download (the coordinator's ids are far shorter). */
export const MAX_JOB_ID_CHARS = 128;
/** Submit `client_request_id`. */
export const MAX_CLIENT_REQUEST_ID_CHARS = 200;
/** Evaluate `job_id`: a label of up to 8 job ids the batch serves, for logs and traces. */
export const MAX_EVALUATE_JOB_LABEL_CHARS = 1024;
/** A prompt (Submit `spec.prompt`, `spec.negative_prompt`, each `spec.prompt_schedule[i].prompt`). */
export const MAX_PROMPT_CHARS = 1000;

/** Throws INVALID_ARGUMENT naming `field` when `value` is longer than `max` characters. */
export function checkLength(field: string, value: string, max: number): void {
  if (value.length > max) throw new InvalidArgumentError(field, `is ${value.length} characters long, more than the limit ${max}`);
}
