// Original file: proto/propeller/v1/jobs.proto


export interface SamplerSpec {
  /**
   * "sequential" | "picard" | "auto"; unset: the coordinator's default
   * (sequential unless started with --default-sampler auto). "auto" picks the
   * Picard window before every round from the free workers; "window" is then
   * its largest window.
   */
  'kind'?: (string);
  'window'?: (number);
  'tolerance'?: (number | string);
  'policy'?: (string);
}

export interface SamplerSpec__Output {
  /**
   * "sequential" | "picard" | "auto"; unset: the coordinator's default
   * (sequential unless started with --default-sampler auto). "auto" picks the
   * Picard window before every round from the free workers; "window" is then
   * its largest window.
   */
  'kind': (string);
  'window': (number);
  'tolerance': (number);
  'policy': (string);
}
