/**
 * The composite denoiser's path for a layout of one window covering the
 * latent (a job of the model's native size): nothing to cut out or merge.
 * The window's input is the sample itself (a copy when the model input is
 * scaled), and x0Hat and epsHat come out of one pass over the output. The
 * numbers are those of the merge, bit for bit: the merge adds `wt * x0` to
 * a zero float64 sum and divides by `wt`, which gives back the float32 `x0`
 * exactly (two float64 roundings stay far inside half a float32 ulp), and
 * turns -0 into +0 (`0 + -0`), as `+ 0` does here.
 *
 * Latent-sized arrays the engine gives back ({@link WholeWindow.recycle})
 * carry the next outputs (decoded straight into one by the dispatcher),
 * eps and scaled inputs, instead of fresh latents per evaluation (the
 * garbage of a Picard round of 16 points was most of the collector's work).
 */
import { takeOver, uninitializedFloat32Array } from '../../common/float-buffers.ts';
import type { DenoiseHints } from '../sampling/sequential.ts';
import type { EvaluateWindows, StepInputs, WindowConditioning, WindowWork } from './window-work.ts';
import { LayoutError } from './errors.ts';
import type { Window } from './types.ts';

/** Spare latents kept for outputs, eps and scaled inputs: two per point of the largest window, and a few. */
const MAX_SPARE = 2 * 64 + 4;

export class WholeWindow {
  private readonly spare: Float32Array[] = [];

  constructor(
    private readonly window: Window,
    /** Elements of the latent (the window's, all channels). */
    private readonly size: number,
    private readonly conditioning: WindowConditioning | undefined,
    private readonly evaluate: EvaluateWindows,
  ) {}

  /** Takes back arrays of the latent's size nobody reads or keeps any more; others, and any already given back, are ignored. */
  recycle(arrays: readonly Float32Array[]): void {
    for (const a of arrays) {
      if (this.spare.length >= MAX_SPARE) return;
      if (a.length === this.size && !this.spare.includes(a)) this.spare.push(a);
    }
  }

  /** x0Hat and epsHat of `sample` (the whole latent) at the step of `inputs`. */
  async denoise(sample: Float32Array, inputs: StepInputs, signal?: AbortSignal, hints?: DenoiseHints): Promise<{ x0: Float32Array; eps: Float32Array }> {
    const window = this.window;
    const n = sample.length;
    let input = sample;
    if (inputs.scale !== 1) {
      input = this.spare.pop() ?? uninitializedFloat32Array(n);
      for (let k = 0; k < n; k++) input[k] = sample[k]! * inputs.scale;
    }
    const spareOutput = this.spare.pop();
    const item: WindowWork = { window, sample: input, timestep: inputs.timestep, conditioning: this.conditioning, output: spareOutput };
    let outputs: Float32Array[];
    try {
      outputs = await this.evaluate([item], signal, hints);
    } catch (err) {
      // Nothing reads them now; a copy still in flight decodes into fresh arrays (the request is over).
      if (spareOutput) this.recycle([spareOutput]);
      if (input !== sample) this.recycle([input]);
      throw err;
    }
    if (outputs.length !== 1) throw new LayoutError('evaluate', `evaluate returned ${outputs.length} outputs for 1 windows`);
    const output = outputs[0]!;
    if (output.length !== sample.length) {
      throw new LayoutError('evaluate', `output for window ${window.index} has ${output.length} elements, needs ${sample.length}`);
    }
    const { p, q, d } = inputs.coefficients;
    const { alpha: a, sigma: s } = inputs.level;
    // x0 goes over the raw output when that is ours to overwrite (our spare
    // array the dispatcher decoded into, or a worker output it decoded and
    // handed over, see float-buffers.ts): one latent less to allocate and
    // fill per evaluation. Element k of the output is read before x0[k] is
    // written, so in place gives the same numbers.
    const ours = spareOutput !== undefined && output === spareOutput;
    if (spareOutput && !ours) this.recycle([spareOutput]);
    const x0 = ours || (output !== input && output !== sample && takeOver(output)) ? output : uninitializedFloat32Array(n);
    const eps = this.spare.pop() ?? uninitializedFloat32Array(n);
    if (input === sample) {
      // The model saw the sample itself: one load per element for both formulas.
      for (let k = 0; k < n; k++) {
        const x = sample[k]!;
        const v = Math.fround((p * x - q * output[k]!) / d) + 0;
        x0[k] = v;
        eps[k] = (x - a * v) / s;
      }
    } else {
      for (let k = 0; k < n; k++) {
        const v = Math.fround((p * input[k]! - q * output[k]!) / d) + 0;
        x0[k] = v;
        // epsFromX0, on the stored float32 x0
        eps[k] = (sample[k]! - a * v) / s;
      }
      // The scaled input is read by no one now (the evaluation is over).
      if (input !== x0 && input !== output) this.recycle([input]);
    }
    return { x0, eps };
  }
}
