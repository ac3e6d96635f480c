import { performance } from 'node:perf_hooks';
import { FIELD_COMPONENTS } from '../models/field-mixture/components.ts';
import { halfGridEigenvalues } from '../models/field-mixture/tables.ts';
import { halfGridMultiplicity } from '../models/field-mixture/spectrum.ts';

const K = 6, C = 4;
const lam = halfGridEigenvalues(FIELD_COMPONENTS);
const mult = halfGridMultiplicity();
const n = mult.length;
let lmin = Infinity, lmax = 0;
for (const v of lam) { lmin = Math.min(lmin, v); lmax = Math.max(lmax, v); }
console.log('lambda range', lmin, lmax, Math.log(lmin), Math.log(lmax));
// value and derivative wrt l = log g of sum m log1p(g lam)
function R(l: number): { v: Float64Array; d: Float64Array } {
  const g = Math.exp(l);
  const v = new Float64Array(K), d = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let sv = 0, sd = 0;
    for (let c = 0; c < C; c++) { const base = (k * C + c) * n; for (let i = 0; i < n; i++) { const x = g * lam[base + i]!; sv += mult[i]! * Math.log1p(x); sd += mult[i]! * x / (1 + x); } }
    v[k] = sv; d[k] = sd;
  }
  return { v, d };
}
const t0 = performance.now(); for (let i = 0; i < 10; i++) R(i * 0.1); console.log('ms per eval', (performance.now() - t0) / 10);
for (const h of [0.05, 0.1, 0.2, 0.4]) {
  let worst = 0, worstAt = 0;
  for (let l0 = -20; l0 < 20; l0 += h * 7.3) {
    const A = R(l0), Bv = R(l0 + h);
    for (const u of [0.25, 0.5, 0.75]) {
      const E = R(l0 + u * h);
      const h00 = 2 * u ** 3 - 3 * u ** 2 + 1, h10 = u ** 3 - 2 * u ** 2 + u, h01 = -2 * u ** 3 + 3 * u ** 2, h11 = u ** 3 - u ** 2;
      const err = new Float64Array(K);
      for (let k = 0; k < K; k++) err[k] = h00 * A.v[k]! + h10 * h * A.d[k]! + h01 * Bv.v[k]! + h11 * h * Bv.d[k]! - E.v[k]!;
      const spread = Math.max(...err) - Math.min(...err);
      if (spread > worst) { worst = spread; worstAt = l0 + u * h; }
    }
  }
  console.log(`h=${h}: worst spread of Hermite error across k ${worst.toExponential(2)} at l=${worstAt.toFixed(2)}`);
}
console.log('--- profile: worst spread per l-band, vs tolerance 3e-3*e^l');
for (const h of [0.1, 0.2, 0.25, 0.4]) {
  const bands = new Map<number, number>();
  for (let l0 = -20; l0 < 20; l0 += h * 3.1) {
    const A = R(l0), Bv = R(l0 + h);
    for (const u of [0.3, 0.5, 0.7]) {
      const E = R(l0 + u * h);
      const h00 = 2 * u ** 3 - 3 * u ** 2 + 1, h10 = u ** 3 - 2 * u ** 2 + u, h01 = -2 * u ** 3 + 3 * u ** 2, h11 = u ** 3 - u ** 2;
      const err = new Float64Array(K);
      for (let k = 0; k < K; k++) err[k] = h00 * A.v[k]! + h10 * h * A.d[k]! + h01 * Bv.v[k]! + h11 * h * Bv.d[k]! - E.v[k]!;
      const spread = Math.max(...err) - Math.min(...err);
      const b = Math.floor((l0 + u * h) / 4) * 4;
      bands.set(b, Math.max(bands.get(b) ?? 0, spread / (3e-3 * Math.exp(l0 + u * h))));
    }
  }
  console.log(`h=${h}: ` + [...bands].map(([b, v]) => `[${b}]${v.toExponential(1)}`).join(' '));
}
