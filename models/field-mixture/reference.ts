import type { TrainSchedule } from '../../common/noise-schedule.ts';
import type { Rng } from '../../common/rng.ts';
import { FIELD_COMPONENTS, FIELD_WINDOW, type FieldComponent, type FieldWindow } from './components.ts';
import { fft3d, type ComplexArray } from './fft.ts';
import { fieldEigenvalues } from './spectrum.ts';
import { FIELD_TRAIN_SCHEDULE, noiseLevelAt, type NoiseLevel, type NoiseProcess } from './tables.ts';

/**
 * Float64 ground truth for the field-mixture model, independent of the ONNX
 * graph: full complex 3-D FFTs (radix-2) instead of real half-spectrum
 * MatMuls, the textbook per-component Gaussian log-density instead of the
 * graph's rearranged one, and one Wiener filter per component.
 *
 * Windows are single items laid out [C, F, H, W] (no batch axis).
 *
 * Data model: x0 = mu_k + field_k with probability w_k, field_k a zero-mean
 * stationary Gaussian field with covariance U^H diag(lambda_k) U per channel
 * (channels independent); x_t = a x0 + s eps, with (a, s) from the model
 * timestep by `noiseLevelAt` (the same function the graphs mirror): VP
 * a = sqrt(abar_t), s = sqrt(1 - abar_t) (log-sigma interpolated at
 * fractional t), or flow a = 1 - t, s = t with t = timestep / 1000.
 */

/** Posterior of the mixture given x_t. */
export interface FieldPosterior {
  /** E[x0 | x_t], laid out [C, F, H, W]. */
  x0: Float64Array;
  /** E[eps | x_t] = (x_t - a E[x0 | x_t]) / s: the VP model's output. */
  epsilon: Float64Array;
  /** E[eps - x0 | x_t]: the flow model's output (velocity). */
  velocity: Float64Array;
  /** P(k | x_t), summing to 1. */
  responsibilities: Float64Array;
  /** a and s of the noise level. */
  alpha: number;
  sigma: number;
}

/**
 * Prior weights as the model reads them: negatives clamp to 0, the rest is
 * normalised; zero weights exclude their component; all-zero means uniform.
 */
export function normaliseClassWeights(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let k = 0; k < out.length; k++) sum += out[k] = Math.max(0, weights[k]!);
  if (!(sum > 0)) return out.fill(1 / out.length);
  for (let k = 0; k < out.length; k++) out[k] = out[k]! / sum;
  return out;
}

/** The mixture prior and its exact posterior, in float64. */
export class FieldMixtureReference {
  readonly window: FieldWindow;
  /** Per component, eigenvalues on the full grid laid out [C, F, H, W]. */
  private readonly lambda: Float64Array[];

  /**
   * @param process forward process of the model this is the reference of:
   *   it decides how `noiseLevel` and `posterior` read a timestep.
   */
  constructor(
    readonly components: readonly FieldComponent[] = FIELD_COMPONENTS,
    readonly schedule: TrainSchedule = FIELD_TRAIN_SCHEDULE,
    window: FieldWindow = FIELD_WINDOW,
    readonly process: NoiseProcess = 'vp',
  ) {
    this.window = window;
    this.lambda = components.map((c) => fieldEigenvalues(c, window));
  }

  /** Elements per window, C * F * H * W. */
  get size(): number {
    return this.window.channels * this.frameSize;
  }

  /**
   * a and s for a model timestep (fractional allowed), clamped like the graph
   * does: `noiseLevelAt(schedule, timestep, process)`. Graph inputs are
   * float32, so pass `Math.fround(timestep)` to compare with a graph.
   */
  noiseLevel(timestep: number): NoiseLevel {
    return noiseLevelAt(this.schedule, timestep, this.process);
  }

  /** An exact sample of component k: white noise coloured by sqrt(lambda) in Fourier, plus the mean. */
  samplePrior(rng: Rng, componentIndex: number): Float32Array {
    const comp = this.component(componentIndex);
    const n = this.frameSize;
    const z: ComplexArray = { re: rng.fillNormal(new Float64Array(this.size)), im: new Float64Array(this.size) };
    fft3d(z, this.dims, this.window.channels, -1);
    const lam = this.lambda[componentIndex]!;
    for (let i = 0; i < this.size; i++) {
      const g = Math.sqrt(lam[i]!);
      z.re[i] = z.re[i]! * g;
      z.im[i] = z.im[i]! * g;
    }
    fft3d(z, this.dims, this.window.channels, 1);
    const out = new Float32Array(this.size);
    for (let c = 0; c < this.window.channels; c++) {
      for (let i = 0; i < n; i++) out[c * n + i] = z.re[c * n + i]! + comp.mean[c]!;
    }
    return out;
  }

  /** log N(x; a mu_k, a^2 C_k + s^2 I) for every component k. */
  componentLogLikelihoods(x: ArrayLike<number>, alpha: number, sigma: number): Float64Array {
    return this.logLikelihoodsOfSpectrum(this.spectrum(x), alpha, sigma);
  }

  /**
   * Exact log density of a window under the mixture prior with the given
   * weights; with `alpha`, `sigma` under the prior noised to that level
   * (`alpha x0 + sigma eps`), which is what a sampler that stops at the
   * training schedule's smallest noise level produces.
   */
  logLikelihood(x0: ArrayLike<number>, classWeights: ArrayLike<number>, alpha = 1, sigma = 0): number {
    const ll = this.componentLogLikelihoods(x0, alpha, sigma);
    const w = normaliseClassWeights(classWeights);
    let max = -Infinity;
    for (let k = 0; k < ll.length; k++) if (w[k]! > 0) max = Math.max(max, ll[k]!);
    let sum = 0;
    for (let k = 0; k < ll.length; k++) if (w[k]! > 0) sum += w[k]! * Math.exp(ll[k]! - max);
    return max + Math.log(sum);
  }

  /** Negative log-likelihood per latent element (nats): comparable across window sizes. */
  meanNll(x0: ArrayLike<number>, classWeights: ArrayLike<number>, alpha = 1, sigma = 0): number {
    return -this.logLikelihood(x0, classWeights, alpha, sigma) / this.size;
  }

  /**
   * Expected `meanNll` of exact samples of component k under its own one-hot
   * prior: the Gaussian's differential entropy per element,
   * mean over (c, f) of (1/2) log(2 pi e lambda_kc(f)).
   */
  entropyPerElement(componentIndex: number): number {
    const lam = this.lambda[componentIndex]!;
    let sum = 0;
    for (let i = 0; i < lam.length; i++) sum += Math.log(2 * Math.PI * Math.E * lam[i]!);
    return (0.5 * sum) / lam.length;
  }

  /** P(k | x0) for a clean window under the given prior (uniform unless told). */
  responsibilities(x0: ArrayLike<number>, classWeights?: ArrayLike<number>): Float64Array {
    const w = classWeights ?? new Float64Array(this.components.length).fill(1);
    return softmaxWeighted(this.componentLogLikelihoods(x0, 1, 0), normaliseClassWeights(w));
  }

  /** Exact posterior mean of x0 (and of eps, eps - x0) given x_t at a model timestep of this process. */
  posterior(xt: ArrayLike<number>, timestep: number, classWeights: ArrayLike<number>): FieldPosterior {
    const { alpha, sigma } = this.noiseLevel(timestep);
    return this.posteriorAt(xt, alpha, sigma, classWeights);
  }

  /** Exact posterior given x_t = a x0 + s eps at any noise level (a > 0, s > 0). */
  posteriorAt(xt: ArrayLike<number>, a: number, s: number, classWeights: ArrayLike<number>): FieldPosterior {
    if (!(a > 0 && s > 0)) throw new RangeError(`noise level needs alpha > 0 and sigma > 0, got ${a}, ${s}`);
    const X = this.spectrum(xt);
    const r = softmaxWeighted(this.logLikelihoodsOfSpectrum(X, a, s), normaliseClassWeights(classWeights));
    const x0 = new Float64Array(this.size);
    const n = this.frameSize;
    const sqrtN = Math.sqrt(n);
    for (let k = 0; k < r.length; k++) {
      if (r[k] === 0) continue;
      const mu = this.components[k]!.mean;
      const lam = this.lambda[k]!;
      // E[x0 | x_t, k] = mu + U^H( a lambda / (a^2 lambda + s^2) (X - a U mu) ).
      const Y: ComplexArray = { re: new Float64Array(this.size), im: new Float64Array(this.size) };
      for (let c = 0; c < this.window.channels; c++) {
        for (let i = 0; i < n; i++) {
          const j = c * n + i;
          const h = (a * lam[j]!) / (a * a * lam[j]! + s * s);
          Y.re[j] = h * (X.re[j]! - (i === 0 ? a * mu[c]! * sqrtN : 0));
          Y.im[j] = h * X.im[j]!;
        }
      }
      fft3d(Y, this.dims, this.window.channels, 1);
      for (let c = 0; c < this.window.channels; c++) {
        for (let i = 0; i < n; i++) x0[c * n + i] = x0[c * n + i]! + r[k]! * (mu[c]! + Y.re[c * n + i]!);
      }
    }
    const epsilon = new Float64Array(this.size);
    const velocity = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      epsilon[i] = (xt[i]! - a * x0[i]!) / s;
      velocity[i] = epsilon[i]! - x0[i]!;
    }
    return { x0, epsilon, velocity, responsibilities: r, alpha: a, sigma: s };
  }

  private get frameSize(): number {
    return this.window.frames * this.window.height * this.window.width;
  }

  private get dims(): [number, number, number] {
    return [this.window.frames, this.window.height, this.window.width];
  }

  private component(k: number): FieldComponent {
    const comp = this.components[k];
    if (!comp) throw new RangeError(`component index ${k} out of range 0..${this.components.length - 1}`);
    return comp;
  }

  /** Unitary DFT of each channel of a real window. */
  private spectrum(x: ArrayLike<number>): ComplexArray {
    if (x.length !== this.size) throw new RangeError(`window has ${x.length} elements, expected ${this.size}`);
    const X: ComplexArray = { re: Float64Array.from(x), im: new Float64Array(this.size) };
    fft3d(X, this.dims, this.window.channels, -1);
    return X;
  }

  private logLikelihoodsOfSpectrum(X: ComplexArray, a: number, s: number): Float64Array {
    const n = this.frameSize;
    const sqrtN = Math.sqrt(n);
    const out = new Float64Array(this.components.length);
    for (let k = 0; k < out.length; k++) {
      const mu = this.components[k]!.mean;
      const lam = this.lambda[k]!;
      let quad = 0;
      let logDet = 0;
      for (let c = 0; c < this.window.channels; c++) {
        for (let i = 0; i < n; i++) {
          const j = c * n + i;
          const d = a * a * lam[j]! + s * s;
          const re = X.re[j]! - (i === 0 ? a * mu[c]! * sqrtN : 0);
          quad += (re * re + X.im[j]! * X.im[j]!) / d;
          logDet += Math.log(2 * Math.PI * d);
        }
      }
      out[k] = -0.5 * (quad + logDet);
    }
    return out;
  }
}

/** softmax(log w + ll) over the components with w > 0 (the others get exactly 0). */
function softmaxWeighted(ll: Float64Array, w: Float64Array): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < ll.length; k++) if (w[k]! > 0) max = Math.max(max, Math.log(w[k]!) + ll[k]!);
  const out = new Float64Array(ll.length);
  let sum = 0;
  for (let k = 0; k < ll.length; k++) if (w[k]! > 0) sum += out[k] = Math.exp(Math.log(w[k]!) + ll[k]! - max);
  for (let k = 0; k < ll.length; k++) out[k] = out[k]! / sum;
  return out;
}

const defaultReferences = new Map<NoiseProcess, FieldMixtureReference>();

/**
 * The reference for the shipped components and schedule under `process`
 * ('vp': field-mixture, 'flow': field-mixture-flow); built once per process, immutable.
 */
export function fieldMixtureReference(process: NoiseProcess = 'vp'): FieldMixtureReference {
  let ref = defaultReferences.get(process);
  if (!ref) {
    ref = new FieldMixtureReference(FIELD_COMPONENTS, FIELD_TRAIN_SCHEDULE, FIELD_WINDOW, process);
    defaultReferences.set(process, ref);
  }
  return ref;
}

/** Exact sample of shipped component `componentIndex`, laid out [C, F, H, W]. */
export function samplePrior(rng: Rng, componentIndex: number): Float32Array {
  return fieldMixtureReference().samplePrior(rng, componentIndex);
}

/** Exact log density of a clean window under the shipped mixture with prior `classWeights`. */
export function logLikelihood(x0: ArrayLike<number>, classWeights: ArrayLike<number>): number {
  return fieldMixtureReference().logLikelihood(x0, classWeights);
}

/** Negative log-likelihood per element of a clean window under the shipped mixture. */
export function meanNll(x0: ArrayLike<number>, classWeights: ArrayLike<number>, alpha = 1, sigma = 0): number {
  return fieldMixtureReference().meanNll(x0, classWeights, alpha, sigma);
}

/** P(k | x0) for a clean window under the shipped mixture (uniform prior unless told). */
export function responsibilities(x0: ArrayLike<number>, classWeights?: ArrayLike<number>): Float64Array {
  return fieldMixtureReference().responsibilities(x0, classWeights);
}

/**
 * Exact E[x0 | x_t] (and E[eps | x_t], E[eps - x0 | x_t]) under the shipped
 * mixture, at a model timestep of `process` (VP: [0, 999], fractional
 * allowed; flow: 1000 t).
 */
export function posterior(
  xt: ArrayLike<number>,
  timestep: number,
  classWeights: ArrayLike<number>,
  process: NoiseProcess = 'vp',
): FieldPosterior {
  return fieldMixtureReference(process).posterior(xt, timestep, classWeights);
}
