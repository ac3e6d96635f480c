// Original file: proto/propeller/v1/denoiser.proto

import type { ModelKind as _propeller_v1_ModelKind, ModelKind__Output as _propeller_v1_ModelKind__Output } from '../../propeller/v1/ModelKind';

export interface ModelInfo {
  'name'?: (string);
  'kind'?: (_propeller_v1_ModelKind);
  /**
   * manifest.json as loaded, so the coordinator plans with the worker's view.
   * It stays JSON: its schema (common/manifest.ts, zod) is the one both sides
   * already validate the files on disk with, and it grows with every model
   * family; a proto copy of it would be a second schema to keep in step.
   */
  'manifestJson'?: (string);
  /**
   * False when the model failed to load; reason says why.
   */
  'available'?: (boolean);
  'reason'?: (string);
}

export interface ModelInfo__Output {
  'name': (string);
  'kind': (_propeller_v1_ModelKind__Output);
  /**
   * manifest.json as loaded, so the coordinator plans with the worker's view.
   * It stays JSON: its schema (common/manifest.ts, zod) is the one both sides
   * already validate the files on disk with, and it grows with every model
   * family; a proto copy of it would be a second schema to keep in step.
   */
  'manifestJson': (string);
  /**
   * False when the model failed to load; reason says why.
   */
  'available': (boolean);
  'reason': (string);
}
