/** Sample moments of a Float32Array, for the distribution checks of the sampling tests. */

/** Mean and (population) variance of `x`, in float64. */
export function moments(x: Float32Array): { mean: number; variance: number } {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  return { mean, variance: variance / x.length };
}
