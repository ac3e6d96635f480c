import { FIELD_WINDOW, SPECTRUM_FLOOR, type FieldComponent, type FieldWindow } from './components.ts';

/**
 * Spectra of the field-mixture components on the DFT grid.
 *
 * Normalisation (unitary DFT U, U[f,n] = exp(-2 pi i f.n) / sqrt(N), N = F*H*W):
 * a stationary field with covariance C = U^H diag(lambda) U has
 * Var(x_n) = C[n,n] = (1/N) sum_f lambda(f) = mean_f lambda(f).
 * We normalise the spectral shape S to mean 1 over the grid and set
 * lambda_c(f) = sigma_c^2 S(f): each element then has variance sigma_c^2,
 * with no extra factor of N. Channels are independent and share S.
 *
 * Shape, frequencies in cycles per sample (signed, see `signedFrequency`):
 *   q^2   = (ey fy)^2 + (ex fx)^2                       (anisotropy)
 *   S~(f) = (f0^2 + q^2)^(-beta/2) * q^2 / (q^2 + fc^2) * exp(-(ft + vy fy + vx fx)^2 / (2 w^2))
 * Stretching the frequency axis y by ey elongates structures by ey along y
 * (fire's tongues, the aurora's curtains; ex for the ocean's swell). The
 * middle factor (present when fc > 0) removes structures larger than ~1/fc,
 * so the field breaks into cells of that size (lava). The exponential
 * concentrates power near the plane ft = -v.fs: a pattern g(s - v t)
 * drifting with velocity v. S must be even (S(f) = S(-f)) for the
 * field to be real; S~ is even except on Nyquist indices (where -0.5 and
 * +0.5 are the same bin but the drift term tells them apart), so we use the
 * even part (S~(f) + S~(-f)) / 2, a no-op everywhere else. Finally a white
 * floor keeps every eigenvalue away from zero:
 *   S = (1 - floor) * S~even / mean(S~even) + floor     (mean S = 1).
 */

/** Signed frequency of DFT bin k of an n-point axis: k/n below n/2, (k-n)/n from n/2 on. */
export function signedFrequency(k: number, n: number): number {
  return k < n / 2 ? k / n : (k - n) / n;
}

/** Spectral shape S of one component on the full grid, laid out [F, H, W], mean exactly 1. */
export function fieldSpectrum(comp: FieldComponent, win: FieldWindow = FIELD_WINDOW): Float64Array {
  const { frames: F, height: H, width: W } = win;
  const raw = new Float64Array(F * H * W);
  const { vy, vx } = comp.velocity;
  const { y: ey, x: ex } = comp.elongation;
  const fc2 = comp.cellSize > 0 ? 1 / (comp.cellSize * comp.cellSize) : 0;
  const twoW2 = 2 * comp.bandwidth * comp.bandwidth;
  for (let kf = 0; kf < F; kf++) {
    const ft = signedFrequency(kf, F);
    for (let kh = 0; kh < H; kh++) {
      const fy = signedFrequency(kh, H);
      for (let kw = 0; kw < W; kw++) {
        const fx = signedFrequency(kw, W);
        const q2 = (ey * fy) ** 2 + (ex * fx) ** 2;
        const cells = fc2 > 0 ? q2 / (q2 + fc2) : 1;
        const spatial = Math.pow(comp.f0 * comp.f0 + q2, -comp.beta / 2) * cells;
        const drift = ft + vy * fy + vx * fx;
        raw[(kf * H + kh) * W + kw] = spatial * Math.exp(-(drift * drift) / twoW2);
      }
    }
  }
  const even = new Float64Array(raw.length);
  let sum = 0;
  for (let kf = 0; kf < F; kf++) {
    const nf = (F - kf) % F;
    for (let kh = 0; kh < H; kh++) {
      const nh = (H - kh) % H;
      for (let kw = 0; kw < W; kw++) {
        const nw = (W - kw) % W;
        const v = 0.5 * (raw[(kf * H + kh) * W + kw]! + raw[(nf * H + nh) * W + nw]!);
        even[(kf * H + kh) * W + kw] = v;
        sum += v;
      }
    }
  }
  const scale = (1 - SPECTRUM_FLOOR) / (sum / even.length);
  for (let i = 0; i < even.length; i++) even[i] = even[i]! * scale + SPECTRUM_FLOOR;
  return even;
}

/** Covariance eigenvalues lambda_c(f) = sigma_c^2 S(f) on the full grid, laid out [C, F, H, W]. */
export function fieldEigenvalues(comp: FieldComponent, win: FieldWindow = FIELD_WINDOW): Float64Array {
  const s = fieldSpectrum(comp, win);
  const out = new Float64Array(win.channels * s.length);
  for (let c = 0; c < win.channels; c++) {
    const v = comp.std[c]! * comp.std[c]!;
    for (let i = 0; i < s.length; i++) out[c * s.length + i] = v * s[i]!;
  }
  return out;
}

/** Bins kept along W by a real-input DFT: 0..W/2. */
export function halfWidth(win: FieldWindow = FIELD_WINDOW): number {
  return Math.floor(win.width / 2) + 1;
}

/**
 * Restricts a full-grid array [..., F, H, W] to the half grid [..., F, H, W/2+1]
 * kept by a real-input DFT along W (the rest follows by Hermitian symmetry).
 */
export function toHalfGrid(full: Float64Array, win: FieldWindow = FIELD_WINDOW): Float64Array {
  const { frames: F, height: H, width: W } = win;
  const Wh = halfWidth(win);
  const planes = full.length / (F * H * W);
  const out = new Float64Array(planes * F * H * Wh);
  for (let p = 0; p < planes * F * H; p++) {
    for (let kw = 0; kw < Wh; kw++) out[p * Wh + kw] = full[p * W + kw]!;
  }
  return out;
}

/**
 * How many full-grid bins each half-grid bin stands for: 1 on the
 * self-conjugate columns kw = 0 and kw = W/2, 2 elsewhere; laid out [F, H, W/2+1].
 * Sums over the full grid of even functions of f equal weighted half-grid sums.
 */
export function halfGridMultiplicity(win: FieldWindow = FIELD_WINDOW): Float64Array {
  const { frames: F, height: H, width: W } = win;
  const Wh = halfWidth(win);
  const out = new Float64Array(F * H * Wh);
  for (let p = 0; p < F * H; p++) {
    for (let kw = 0; kw < Wh; kw++) out[p * Wh + kw] = kw === 0 || 2 * kw === W ? 1 : 2;
  }
  return out;
}
