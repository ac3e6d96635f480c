// Original file: proto/propeller/v1/denoiser.proto


/**
 * One prompt of a text-encoder input, with its share of the mix.
 */
export interface WeightedPrompt {
  'text'?: (string);
  /**
   * Non-negative; the worker normalises the weights of one input to sum 1.
   */
  'weight'?: (number | string);
}

/**
 * One prompt of a text-encoder input, with its share of the mix.
 */
export interface WeightedPrompt__Output {
  'text': (string);
  /**
   * Non-negative; the worker normalises the weights of one input to sum 1.
   */
  'weight': (number);
}
