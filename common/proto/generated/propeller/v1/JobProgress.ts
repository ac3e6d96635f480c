// Original file: proto/propeller/v1/jobs.proto

import type { Long } from '@grpc/proto-loader';

export interface JobProgress {
  'step'?: (number);
  'totalSteps'?: (number);
  'picardIteration'?: (number);
  'evaluations'?: (number | string | Long);
  'framesEncoded'?: (number);
  'totalFrames'?: (number);
  'etaSeconds'?: (number | string);
  'stride'?: (number);
  'errorRatio'?: (number | string);
  /**
   * Picard points evaluated in the latest round (the window; the elastic
   * "auto" sampler changes it with the load); 0 before the first round and
   * for the sequential engine.
   */
  'picardWindow'?: (number);
}

export interface JobProgress__Output {
  'step': (number);
  'totalSteps': (number);
  'picardIteration': (number);
  'evaluations': (number);
  'framesEncoded': (number);
  'totalFrames': (number);
  'etaSeconds': (number);
  'stride': (number);
  'errorRatio': (number);
  /**
   * Picard points evaluated in the latest round (the window; the elastic
   * "auto" sampler changes it with the load); 0 before the first round and
   * for the sequential engine.
   */
  'picardWindow': (number);
}
