/**
 * Job seeds: a uint64 on the wire (`JobSpec.seed`), every value of it usable.
 *
 * In memory and in stored records a seed is a `Seed`: a number while it is a
 * safe integer, else its decimal string, so records stay plain JSON and every
 * seed below 2^53 keeps the form it always had.
 */

/** A uint64 seed: a safe-integer number, or the decimal string of a larger value. */
export type Seed = number | string;

/** The largest seed: 2^64 - 1. */
export const MAX_SEED = (1n << 64n) - 1n;

/**
 * The canonical `Seed` of a seed given as a number, a decimal string, a
 * bigint or a protobufjs `Long`; throws a RangeError saying why when it is not
 * an integer in [0, 2^64).
 */
export function toSeed(value: unknown): Seed {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`must be an integer in [0, 2^64), got ${value}`);
    return value;
  } else if (typeof value === 'bigint') {
    n = value;
  } else if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    n = BigInt(value);
  } else if (isLong(value)) {
    n = BigInt(value.toString());
  } else {
    throw new RangeError(`must be an integer in [0, 2^64), got ${typeof value === 'string' ? `"${value}"` : String(value)}`);
  }
  if (n < 0n || n > MAX_SEED) throw new RangeError(`must be an integer in [0, 2^64), got ${n}`);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/** The low and high 32 bits of a seed (each as uint32). */
export function seedHalves(seed: Seed | bigint): { lo: number; hi: number } {
  const n = BigInt(seed);
  return { lo: Number(n & 0xffffffffn), hi: Number((n >> 32n) & 0xffffffffn) };
}

function isLong(v: unknown): v is { toString(): string } {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v && 'unsigned' in v;
}
