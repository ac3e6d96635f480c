import type { WindowWork } from '../../coordinator/layout/window-work.ts';
import type { Window } from '../../coordinator/layout/types.ts';

/** A window of one latent pixel and one frame. */
const POINT: Window = { index: 0, f0: 0, y0: 0, x0: 0, frames: 1, height: 1, width: 1 };

/** Work of one 1x1x1 window whose sample is `channels` (shape [channels.length, 1, 1, 1]), for pool tests that need no layout. */
export function pointWork(channels: Float32Array, timestep = 10): WindowWork {
  return { window: POINT, sample: channels, timestep };
}
