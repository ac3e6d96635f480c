// Original file: proto/propeller/v1/denoiser.proto

import type { EvaluateItem as _propeller_v1_EvaluateItem, EvaluateItem__Output as _propeller_v1_EvaluateItem__Output } from '../../propeller/v1/EvaluateItem';
import type { OutputDtype as _propeller_v1_OutputDtype, OutputDtype__Output as _propeller_v1_OutputDtype__Output } from '../../propeller/v1/OutputDtype';

export interface EvaluateRequest {
  'model'?: (string);
  'items'?: (_propeller_v1_EvaluateItem)[];
  'outputDtype'?: (_propeller_v1_OutputDtype);
  /**
   * For logs and metrics: the job this batch belongs to.
   */
  'jobId'?: (string);
}

export interface EvaluateRequest__Output {
  'model': (string);
  'items': (_propeller_v1_EvaluateItem__Output)[];
  'outputDtype': (_propeller_v1_OutputDtype__Output);
  /**
   * For logs and metrics: the job this batch belongs to.
   */
  'jobId': (string);
}
