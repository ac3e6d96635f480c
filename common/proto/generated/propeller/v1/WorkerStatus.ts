// Original file: proto/propeller/v1/jobs.proto

import type { Long } from '@grpc/proto-loader';

export interface WorkerStatus {
  'id'?: (string);
  'address'?: (string);
  'device'?: (string);
  /**
   * "unknown" | "serving" | "suspect" (missed a deadline) | "draining" | "dead"
   */
  'state'?: (string);
  'models'?: (string)[];
  'inFlight'?: (number);
  'evaluations'?: (number | string | Long);
  'evaluationsPerSecond'?: (number | string);
  'maxBatch'?: (number);
  'lastError'?: (string);
}

export interface WorkerStatus__Output {
  'id': (string);
  'address': (string);
  'device': (string);
  /**
   * "unknown" | "serving" | "suspect" (missed a deadline) | "draining" | "dead"
   */
  'state': (string);
  'models': (string)[];
  'inFlight': (number);
  'evaluations': (number);
  'evaluationsPerSecond': (number);
  'maxBatch': (number);
  'lastError': (string);
}
