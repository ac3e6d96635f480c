/**
 * Relative L2 distance `||a - b|| / ||b||` of two latents (float64 sums):
 * how far a sample is from a reference one, as the benches and tests report
 * Picard's and the stand-ins' outputs against sequential sampling.
 */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`relL2 of ${a.length} and ${b.length} elements`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
