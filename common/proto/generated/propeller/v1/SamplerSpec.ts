// Original file: proto/propeller/v1/jobs.proto


export interface SamplerSpec {
  /**
   * "sequential" (default) | "picard"
   */
  'kind'?: (string);
  'window'?: (number);
  'tolerance'?: (number | string);
  'policy'?: (string);
}

export interface SamplerSpec__Output {
  /**
   * "sequential" (default) | "picard"
   */
  'kind': (string);
  'window': (number);
  'tolerance': (number);
  'policy': (string);
}
