// Original file: proto/propeller/v1/denoiser.proto

import type { EvaluateItem as _propeller_v1_EvaluateItem, EvaluateItem__Output as _propeller_v1_EvaluateItem__Output } from '../../propeller/v1/EvaluateItem';

export interface EvaluateRequest {
  'model'?: (string);
  'items'?: (_propeller_v1_EvaluateItem)[];
  /**
   * "float16" (default when empty) or "float32" for the outputs.
   */
  'outputDtype'?: (string);
  /**
   * For logs and metrics: the job this batch belongs to.
   */
  'jobId'?: (string);
}

export interface EvaluateRequest__Output {
  'model': (string);
  'items': (_propeller_v1_EvaluateItem__Output)[];
  /**
   * "float16" (default when empty) or "float32" for the outputs.
   */
  'outputDtype': (string);
  /**
   * For logs and metrics: the job this batch belongs to.
   */
  'jobId': (string);
}
