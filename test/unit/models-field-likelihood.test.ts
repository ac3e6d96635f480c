import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../common/rng.ts';
import { FIELD_COMPONENTS, type FieldComponent, type FieldWindow } from '../../models/field-mixture/components.ts';
import { buildFieldMixtureModel } from '../../models/field-mixture/build.ts';
import { fieldMixtureReference, FieldMixtureReference } from '../../models/field-mixture/reference.ts';
import { fieldEigenvalues, fieldSpectrum } from '../../models/field-mixture/spectrum.ts';
import { FIELD_TRAIN_SCHEDULE } from '../../models/field-mixture/tables.ts';

const K = FIELD_COMPONENTS.length;
const oneHot = (k: number): number[] => Array.from({ length: K }, (_, j) => (j === k ? 1 : 0));

// ---- Dense float64 Gaussian algebra for a tiny window (independent of any DFT code). ----

/** Covariance of one channel: C[n,m] = (1/N) sum_f lambda(f) cos(2 pi f.(n - m)). */
function denseCovariance(lambda: Float64Array, offset: number, win: FieldWindow): number[][] {
  const { frames: F, height: H, width: W } = win;
  const N = F * H * W;
  const coord = (n: number): [number, number, number] => [Math.floor(n / (H * W)), Math.floor(n / W) % H, n % W];
  return Array.from({ length: N }, (_, n) =>
    Array.from({ length: N }, (_, m) => {
      const [a, b, c] = coord(n);
      const [d, e, g] = coord(m);
      let sum = 0;
      for (let f = 0; f < N; f++) {
        const [kf, kh, kw] = coord(f);
        sum += lambda[offset + f]! * Math.cos(2 * Math.PI * ((kf * (a - d)) / F + (kh * (b - e)) / H + (kw * (c - g)) / W));
      }
      return sum / N;
    }),
  );
}

function cholesky(A: number[][]): number[][] {
  const n = A.length;
  const L = A.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
    }
  }
  return L;
}

/** Solves (L L^T) x = b. */
function cholSolve(L: number[][], b: number[]): number[] {
  const n = b.length;
  const y = [...b];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) y[i]! -= L[i]![k]! * y[k]!;
    y[i] = y[i]! / L[i]![i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) y[i]! -= L[k]![i]! * y[k]!;
    y[i] = y[i]! / L[i]![i]!;
  }
  return y;
}

/** log N(x; m, A) by Cholesky. */
function denseLogNormal(x: number[], m: number[], A: number[][]): number {
  const L = cholesky(A);
  const r = x.map((v, i) => v - m[i]!);
  const z = cholSolve(L, r);
  const quad = r.reduce((s, v, i) => s + v * z[i]!, 0);
  const logDet = 2 * L.reduce((s, row, i) => s + Math.log(row[i]!), 0);
  return -0.5 * (quad + logDet + x.length * Math.log(2 * Math.PI));
}

const TINY: FieldWindow = { channels: 2, frames: 2, height: 4, width: 4 };
const TINY_COMPONENTS: FieldComponent[] = [
  { ...FIELD_COMPONENTS[0]!, velocity: { vy: 0.3, vx: 0.7 } },
  { ...FIELD_COMPONENTS[1]!, f0: 0.2 },
  { ...FIELD_COMPONENTS[2]!, mean: [1.0, -0.5, 0, 0] },
];

/** Dense per-component pieces of the tiny model: for each k, channel covariances. */
function tinyCovariances(): number[][][][] {
  return TINY_COMPONENTS.map((comp) => {
    const lambda = fieldEigenvalues(comp, TINY);
    const n = TINY.frames * TINY.height * TINY.width;
    return Array.from({ length: TINY.channels }, (_, c) => denseCovariance(lambda, c * n, TINY));
  });
}

/** Dense mixture posterior: log p(x_t | k) and E[x0 | x_t, k] for each k, by direct linear algebra. */
function densePosterior(xt: Float32Array, a: number, s: number, w: number[]): { x0: number[]; logLik: number[] } {
  const covs = tinyCovariances();
  const n = TINY.frames * TINY.height * TINY.width;
  const logLik: number[] = [];
  const means: number[][] = [];
  covs.forEach((perChannel, k) => {
    let ll = 0;
    const mean: number[] = [];
    perChannel.forEach((C, c) => {
      const x = Array.from(xt.subarray(c * n, (c + 1) * n));
      const mu = TINY_COMPONENTS[k]!.mean[c]!;
      const A = C.map((row, i) => row.map((v, j) => a * a * v + (i === j ? s * s : 0)));
      ll += denseLogNormal(x, new Array<number>(n).fill(a * mu), A);
      // E[x0 | x_t, k] = mu + a C A^-1 (x_t - a mu).
      const z = cholSolve(cholesky(A), x.map((v) => v - a * mu));
      for (let i = 0; i < n; i++) mean.push(mu + a * C[i]!.reduce((acc, v, j) => acc + v * z[j]!, 0));
    });
    logLik.push(ll);
    means.push(mean);
  });
  const logits = logLik.map((ll, k) => Math.log(w[k]!) + ll);
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const total = e.reduce((p, v) => p + v, 0);
  const x0 = means[0]!.map((_, i) => means.reduce((acc, m, k) => acc + (e[k]! / total) * m[i]!, 0));
  return { x0, logLik };
}

describe('field-mixture - spectra and exact likelihoods', () => {
  it('spectra have mean 1, are even under f -> -f and strictly positive', () => {
    const win = { channels: 4, frames: 16, height: 32, width: 32 };
    for (const comp of FIELD_COMPONENTS) {
      const S = fieldSpectrum(comp, win);
      let sum = 0;
      for (let kf = 0; kf < 16; kf++) {
        for (let kh = 0; kh < 32; kh++) {
          for (let kw = 0; kw < 32; kw++) {
            const v = S[(kf * 32 + kh) * 32 + kw]!;
            const mirror = S[(((16 - kf) % 16) * 32 + ((32 - kh) % 32)) * 32 + ((32 - kw) % 32)]!;
            assert.equal(v, mirror);
            assert.ok(v > 0);
            sum += v;
          }
        }
      }
      assert.ok(Math.abs(sum / S.length - 1) < 1e-12, `${comp.name}: mean ${sum / S.length}`);
    }
  });

  it('the spectral log-likelihood equals the dense Gaussian mixture density (tiny window)', () => {
    const ref = new FieldMixtureReference(TINY_COMPONENTS, FIELD_TRAIN_SCHEDULE, TINY);
    const rng = new Rng(3);
    const w = [0.5, 0.3, 0.2];
    for (let k = 0; k < TINY_COMPONENTS.length; k++) {
      const x0 = ref.samplePrior(rng, k);
      const { logLik } = densePosterior(x0, 1, 0, w);
      const spectral = ref.componentLogLikelihoods(x0, 1, 0);
      logLik.forEach((ll, j) => assert.ok(Math.abs(spectral[j]! - ll) < 1e-8 * Math.abs(ll) + 1e-8, `k=${k} j=${j}: ${spectral[j]} vs ${ll}`));
      const max = Math.max(...logLik);
      const mixture = max + Math.log(logLik.reduce((p, ll, j) => p + w[j]! * Math.exp(ll - max), 0));
      assert.ok(Math.abs(ref.logLikelihood(x0, w) - mixture) < 1e-8 * Math.abs(mixture) + 1e-8);
    }
  });

  it('the reference posterior mean and the ONNX graph equal the dense posterior (tiny window)', async () => {
    const ref = new FieldMixtureReference(TINY_COMPONENTS, FIELD_TRAIN_SCHEDULE, TINY);
    const session = await ort.InferenceSession.create(buildFieldMixtureModel({ components: TINY_COMPONENTS, window: TINY }), {
      intraOpNumThreads: 1,
    });
    const rng = new Rng(11);
    const w = [0.2, 0.5, 0.3];
    try {
      for (const [k, t] of [[0, 30], [1, 400], [2, 800], [0, 999]] as const) {
        const { alpha: a, sigma: s } = ref.noiseLevel(t);
        const xt = Float32Array.from(ref.samplePrior(rng, k), (x) => a * x + s * rng.normal());
        const dense = densePosterior(xt, a, s, w);
        const exact = ref.posterior(xt, t, w);
        const scale = Math.sqrt(dense.x0.reduce((p, v) => p + v * v, 0));
        const refErr = Math.sqrt(dense.x0.reduce((p, v, i) => p + (v - exact.x0[i]!) ** 2, 0)) / scale;
        assert.ok(refErr < 1e-10, `reference k=${k} t=${t}: ${refErr}`);
        const out = await session.run({
          sample: new ort.Tensor('float32', xt, [1, TINY.channels, TINY.frames, TINY.height, TINY.width]),
          timestep: new ort.Tensor('float32', Float32Array.of(t), [1]),
          class_weights: new ort.Tensor('float32', Float32Array.from(w), [1, 3]),
        });
        const eps = out['epsilon']!.data as Float32Array;
        const graphErr = Math.sqrt(dense.x0.reduce((p, v, i) => p + ((xt[i]! - s * eps[i]!) / a - v) ** 2, 0)) / scale;
        // x0 = (x_t - s eps) / a multiplies eps's float32 rounding by s / a (2600 at t = 999): allowed beyond s / a = 100.
        assert.ok(graphErr < 1e-4 * Math.max(1, s / a / 100), `graph k=${k} t=${t}: ${graphErr}`);
      }
    } finally {
      await session.release();
    }
  });

  it('exact samples have the mean NLL of their Gaussian entropy, and much more under other components', () => {
    const ref = fieldMixtureReference();
    const rng = new Rng(99);
    const samples = 3;
    for (let k = 0; k < K; k++) {
      const xs = Array.from({ length: samples }, () => ref.samplePrior(rng, k));
      const own = xs.reduce((p, x) => p + ref.meanNll(x, oneHot(k)), 0) / samples;
      // Per window, NLL - entropy has standard deviation sqrt(n/2)/n per element ~ 0.0028.
      assert.ok(Math.abs(own - ref.entropyPerElement(k)) < 0.01, `${FIELD_COMPONENTS[k]!.name}: ${own} vs ${ref.entropyPerElement(k)}`);
      // Uniform prior costs at most log K over the whole window.
      const uniform = xs.reduce((p, x) => p + ref.meanNll(x, new Array(K).fill(1)), 0) / samples;
      assert.ok(uniform >= own - 1e-12 && uniform - own <= Math.log(K) / ref.size + 1e-12);
      for (let j = 0; j < K; j++) {
        if (j === k) continue;
        const other = ref.meanNll(xs[0]!, oneHot(j));
        // 0.2 nats per element is a factor e^-13000 per window: no component explains another's samples.
        assert.ok(other > own + 0.2, `${FIELD_COMPONENTS[k]!.name} under ${FIELD_COMPONENTS[j]!.name}: ${other} vs ${own}`);
      }
      const r = ref.responsibilities(xs[0]!);
      assert.ok(r[k]! > 0.999999, `${FIELD_COMPONENTS[k]!.name}: purity ${r[k]}`);
    }
  });

  it('exact samples have the component mean and per-element variance', () => {
    const ref = fieldMixtureReference();
    const rng = new Rng(4);
    const n = ref.size / 4;
    for (let k = 0; k < K; k++) {
      const comp = FIELD_COMPONENTS[k]!;
      const x = ref.samplePrior(rng, k);
      for (let c = 0; c < 4; c++) {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += x[c * n + i]! / n;
        let v = 0;
        for (let i = 0; i < n; i++) v += (x[c * n + i]! - mean) ** 2 / n;
        // The window mean fluctuates (its variance is lambda(0)/N); allow 5 standard deviations.
        const sdMean = Math.sqrt(fieldEigenvalues(comp)[c * n]! / n);
        assert.ok(Math.abs(mean - comp.mean[c]!) < 5 * sdMean, `${comp.name} c${c}: mean ${mean}`);
        // Power-law fields put much variance in few low frequencies: loose bounds.
        assert.ok(v > 0.3 * comp.std[c]! ** 2 && v < 1.7 * comp.std[c]! ** 2, `${comp.name} c${c}: var ${v}`);
      }
    }
  });

  it('exact samples drift with the component velocity', () => {
    const ref = fieldMixtureReference();
    const rng = new Rng(8);
    const [F, H, W] = [16, 32, 32];
    // corr(d) = sum x_{f+1}(y, x) x_f(y - dy, x - dx); a drift by v peaks at d = round(v).
    const bestShift = (x: Float32Array): [number, number] => {
      let best: [number, number] = [0, 0];
      let bestCorr = -Infinity;
      for (let dy = -3; dy <= 3; dy++) {
        for (let dx = -3; dx <= 3; dx++) {
          let corr = 0;
          for (let c = 0; c < 4; c++) {
            let mean = 0;
            for (let i = 0; i < F * H * W; i++) mean += x[c * F * H * W + i]!;
            mean /= F * H * W;
            for (let f = 0; f < F; f++) {
              const next = (c * F + ((f + 1) % F)) * H * W;
              const cur = (c * F + f) * H * W;
              for (let y = 0; y < H; y++) {
                for (let xx = 0; xx < W; xx++) {
                  const src = cur + ((y - dy + H) % H) * W + ((xx - dx + W) % W);
                  corr += (x[next + y * W + xx]! - mean) * (x[src]! - mean);
                }
              }
            }
          }
          if (corr > bestCorr) [best, bestCorr] = [[dy, dx], corr];
        }
      }
      return best;
    };
    for (const name of ['fire', 'ocean', 'forest']) {
      const k = FIELD_COMPONENTS.findIndex((c) => c.name === name);
      const { vy, vx } = FIELD_COMPONENTS[k]!.velocity;
      assert.deepEqual(bestShift(ref.samplePrior(rng, k)), [Math.round(vy), Math.round(vx)], name);
    }
  });
});
