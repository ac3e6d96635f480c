// Original file: proto/propeller/v1/denoiser.proto

import type { ModelInfo as _propeller_v1_ModelInfo, ModelInfo__Output as _propeller_v1_ModelInfo__Output } from '../../propeller/v1/ModelInfo';
import type { Long } from '@grpc/proto-loader';

export interface InfoResponse {
  'workerId'?: (string);
  /**
   * e.g. "cpu", "cuda:0", "sim:a100"
   */
  'device'?: (string);
  'models'?: (_propeller_v1_ModelInfo)[];
  /**
   * Largest batch one Evaluate may carry.
   */
  'maxBatch'?: (number);
  /**
   * Evaluate calls the worker runs at once.
   */
  'capacity'?: (number);
  'version'?: (string);
  /**
   * Largest message the worker accepts, bytes.
   */
  'maxMessageBytes'?: (number | string | Long);
  /**
   * The worker sends response headers as soon as it has a whole Evaluate
   * request, before running it: the coordinator then puts that worker's next
   * batch on the wire only once the previous one has arrived.
   */
  'confirmsReceipt'?: (boolean);
}

export interface InfoResponse__Output {
  'workerId': (string);
  /**
   * e.g. "cpu", "cuda:0", "sim:a100"
   */
  'device': (string);
  'models': (_propeller_v1_ModelInfo__Output)[];
  /**
   * Largest batch one Evaluate may carry.
   */
  'maxBatch': (number);
  /**
   * Evaluate calls the worker runs at once.
   */
  'capacity': (number);
  'version': (string);
  /**
   * Largest message the worker accepts, bytes.
   */
  'maxMessageBytes': (number);
  /**
   * The worker sends response headers as soon as it has a whole Evaluate
   * request, before running it: the coordinator then puts that worker's next
   * batch on the wire only once the previous one has arrived.
   */
  'confirmsReceipt': (boolean);
}
