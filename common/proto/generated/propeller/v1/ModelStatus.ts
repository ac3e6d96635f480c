// Original file: proto/propeller/v1/jobs.proto


export interface ModelStatus {
  'name'?: (string);
  'kind'?: (string);
  'description'?: (string);
  'prompts'?: (string)[];
  /**
   * Native window in pixels.
   */
  'nativeFrames'?: (number);
  'nativeHeight'?: (number);
  'nativeWidth'?: (number);
  'predictionType'?: (string);
  /**
   * Workers that serve it.
   */
  'workers'?: (string)[];
  'available'?: (boolean);
  'reason'?: (string);
}

export interface ModelStatus__Output {
  'name': (string);
  'kind': (string);
  'description': (string);
  'prompts': (string)[];
  /**
   * Native window in pixels.
   */
  'nativeFrames': (number);
  'nativeHeight': (number);
  'nativeWidth': (number);
  'predictionType': (string);
  /**
   * Workers that serve it.
   */
  'workers': (string)[];
  'available': (boolean);
  'reason': (string);
}
