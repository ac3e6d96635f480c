import { InvalidArgumentError } from '../common/errors.ts';
import type { EvaluateRequest__Output } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import { MAX_DTYPE_CHARS, MAX_EVALUATE_JOB_LABEL_CHARS, MAX_KEY_CHARS, MAX_MODEL_NAME_CHARS, checkLength } from '../common/request-limits.ts';

/**
 * The length of every field of an Evaluate that names something — model,
 * dtypes, job label, conditioning keys — checked before any other check, so
 * that no lookup and no error message ever handles an unbounded name (a
 * 200 KB model name quoted into a status would not fit its HTTP/2 header).
 */
export function checkEvaluateNames(req: EvaluateRequest__Output): void {
  checkLength('model', req.model, MAX_MODEL_NAME_CHARS);
  checkLength('output_dtype', req.outputDtype, MAX_DTYPE_CHARS);
  checkLength('job_id', req.jobId, MAX_EVALUATE_JOB_LABEL_CHARS);
  req.items.forEach((item, i) => {
    if (item.sample) checkLength(`items[${i}].sample.dtype`, item.sample.dtype, MAX_DTYPE_CHARS);
    for (const [key, tensor] of Object.entries(item.conditioning)) {
      // The key is the field's name: say how long it is, never what it is.
      if (key.length > MAX_KEY_CHARS) throw new InvalidArgumentError(`items[${i}].conditioning`, `has a key of ${key.length} characters, more than the limit ${MAX_KEY_CHARS}`);
      checkLength(`items[${i}].conditioning.${key}.dtype`, tensor.dtype, MAX_DTYPE_CHARS);
    }
  });
}
