// Original file: proto/propeller/v1/jobs.proto


export interface PromptSegment {
  /**
   * First output frame this prompt applies to.
   */
  'fromFrame'?: (number);
  'prompt'?: (string);
}

export interface PromptSegment__Output {
  /**
   * First output frame this prompt applies to.
   */
  'fromFrame': (number);
  'prompt': (string);
}
