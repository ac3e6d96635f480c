import { InvalidArgumentError } from '../common/errors.ts';
import type { EvaluateRequest__Output } from '../common/proto/generated/propeller/v1/EvaluateRequest.ts';
import { MAX_DTYPE_CHARS, MAX_EVALUATE_JOB_LABEL_CHARS, MAX_KEY_CHARS, MAX_MODEL_NAME_CHARS, MAX_PROMPT_CHARS, checkLength } from '../common/request-limits.ts';

/**
 * The length of every text field of an Evaluate — model, job label, tensor
 * dtypes, conditioning keys, prompts — checked before any other check, so
 * that no lookup and no error message ever handles unbounded text (a 200 KB
 * model name quoted into a status would not fit its HTTP/2 header).
 */
export function checkEvaluateNames(req: EvaluateRequest__Output): void {
  checkLength('model', req.model, MAX_MODEL_NAME_CHARS);
  checkLength('job_id', req.jobId, MAX_EVALUATE_JOB_LABEL_CHARS);
  req.items.forEach((item, i) => {
    const field = `items[${i}]`;
    if (item.sample) checkLength(`${field}.sample.dtype`, item.sample.dtype, MAX_DTYPE_CHARS);
    for (const [name, tensors] of [['cond', item.cond], ['uncond', item.uncond]] as const) {
      for (const [key, tensor] of Object.entries(tensors)) {
        checkKey(`${field}.${name}`, key);
        checkLength(`${field}.${name}.${key}.dtype`, tensor.dtype, MAX_DTYPE_CHARS);
      }
    }
    for (const [name, mixes] of [['prompts', item.prompts], ['negative_prompts', item.negativePrompts]] as const) {
      for (const [key, mix] of Object.entries(mixes)) {
        checkKey(`${field}.${name}`, key);
        mix.prompts.forEach((p, k) => checkLength(`${field}.${name}.${key}.prompts[${k}].text`, p.text, MAX_PROMPT_CHARS));
      }
    }
  });
}

/** A map key is the field's name: say how long it is, never what it is. */
function checkKey(field: string, key: string): void {
  if (key.length > MAX_KEY_CHARS) throw new InvalidArgumentError(field, `has a key of ${key.length} characters, more than the limit ${MAX_KEY_CHARS}`);
}
