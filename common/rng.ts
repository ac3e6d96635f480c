import { seedHalves, type Seed } from './seed.ts';

/**
 * Seeded random numbers. Every random draw in Propeller comes from an `Rng`
 * so that a job is reproducible from its seed alone.
 *
 * Generator: xoshiro128** (fast, 128-bit state, passes BigCrush), seeded by
 * splitmix32 from the seed's low 32 bits plus an optional stream id, so
 * independent streams (one per job, per chunk, per step) can be derived
 * without correlated sequences. A seed's high 32 bits (job seeds are uint64)
 * feed a second splitmix32 sequence XORed into the state; it is skipped when
 * they are 0, so every seed below 2^32 gives the numbers it always gave.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second normal of the Box-Muller pair, kept for the next call. */
  private spare: number | null = null;

  /**
   * @param seed a uint64 (`Seed`: a number, or the decimal string of a value
   *   above 2^53) or a bigint; a number below 2^32 is taken as it always was.
   * @param stream stream id: streams of one seed are independent.
   */
  constructor(seed: Seed | bigint, stream = 0) {
    let lo: number;
    let hi = 0;
    if (typeof seed === 'number' && !(Number.isInteger(seed) && seed >= 0x100000000)) {
      lo = seed;
    } else {
      if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer or a decimal string, got ${seed}`);
      ({ lo, hi } = seedHalves(seed));
    }
    const low = splitmix32((lo ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
    this.s0 = low();
    this.s1 = low();
    this.s2 = low();
    this.s3 = low();
    if (hi !== 0) {
      // A second sequence from the high half and the stream (a bijection of
      // hi for each stream), so seeds that differ only above bit 31 differ.
      const high = splitmix32((Math.imul(hi, 0xcc9e2d51) ^ Math.imul(stream + 1, 0x1b873593) ^ 0x5bd1e995) >>> 0);
      this.s0 = (this.s0 ^ high()) >>> 0;
      this.s1 = (this.s1 ^ high()) >>> 0;
      this.s2 = (this.s2 ^ high()) >>> 0;
      this.s3 = (this.s3 ^ high()) >>> 0;
    }
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with standard normals and returns it: the values `normal()`
   * called `out.length` times would give, bit for bit (test), with the
   * generator inlined on int32 locals — a job's initial noise is millions of
   * normals, generated before any worker has work.
   */
  fillNormal<T extends Float32Array | Float64Array>(out: T): T {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[0] = this.spare;
      this.spare = null;
      i = 1;
    }
    let s0 = this.s0 | 0;
    let s1 = this.s1 | 0;
    let s2 = this.s2 | 0;
    let s3 = this.s3 | 0;
    // One xoshiro128** output as uint32 (what nextU32 returns), state advanced.
    let r = 0;
    const step = (): void => {
      const m = Math.imul(s1, 5);
      r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    };
    const uniform = (): number => {
      step();
      const hi = r >>> 5;
      step();
      const lo = r >>> 6;
      return (hi * 67108864 + lo) / 9007199254740992;
    };
    for (; i < n; i += 2) {
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const radius = Math.sqrt(-2 * Math.log(u));
      out[i] = radius * Math.cos(2 * Math.PI * v);
      const second = radius * Math.sin(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = second;
      else this.spare = second;
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    return out;
  }
}

/** A splitmix32 sequence starting from state `x`. */
function splitmix32(x: number): () => number {
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
