// Original file: proto/propeller/v1/jobs.proto


/**
 * One preview image of a running or finished job.
 */
export interface JobPreview {
  /**
   * The encoded image (PNG).
   */
  'image'?: (Buffer | Uint8Array | string);
  /**
   * "image/png"
   */
  'mimeType'?: (string);
  'width'?: (number);
  'height'?: (number);
  /**
   * The sampling step whose prediction it shows (of total_steps); a
   * contact sheet shows the finished video: step = total_steps.
   */
  'step'?: (number);
  'totalSteps'?: (number);
  /**
   * Video frames it shows (side by side, or in a grid for a contact sheet).
   */
  'frames'?: (number);
  /**
   * A grid of frames of the finished, decoded video (the final event).
   */
  'contactSheet'?: (boolean);
}

/**
 * One preview image of a running or finished job.
 */
export interface JobPreview__Output {
  /**
   * The encoded image (PNG).
   */
  'image': (Buffer);
  /**
   * "image/png"
   */
  'mimeType': (string);
  'width': (number);
  'height': (number);
  /**
   * The sampling step whose prediction it shows (of total_steps); a
   * contact sheet shows the finished video: step = total_steps.
   */
  'step': (number);
  'totalSteps': (number);
  /**
   * Video frames it shows (side by side, or in a grid for a contact sheet).
   */
  'frames': (number);
  /**
   * A grid of frames of the finished, decoded video (the final event).
   */
  'contactSheet': (boolean);
}
