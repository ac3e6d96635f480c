import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTensor, encodeTensor, floatToHalf, floatsToHalves, halfToFloat, halvesToFloats } from '../../common/tensor-codec.ts';
import { handOver, takeOver, uninitializedFloat32Array } from '../../common/float-buffers.ts';
import type { Tensor__Output } from '../../common/proto/generated/propeller/v1/Tensor.ts';

/**
 * The float16 batch conversions (two lanes per 32-bit word, a tail, and the
 * one-lane path for misaligned views) against references written
 * independently of them, bit for bit: NaN (sign kept, quiet payload 0x200),
 * +-Inf, -0, subnormals, overflow to Inf, and round-half-to-even ties at
 * every exponent.
 */

/** Reference float32 -> binary16 bits from the value, in exact float64 arithmetic (no bit tricks). */
function refHalf(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  if (Number.isNaN(v)) {
    // What the codec has always sent for NaN: a quiet NaN with the sign bit of the float32.
    const f = new Float32Array([v]);
    return ((new Uint32Array(f.buffer)[0]! >>> 16) & 0x8000) | 0x7e00;
  }
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  // Quantum of the binade (subnormals share the quantum of the smallest normal binade).
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  let quantum = 2 ** (e - 10);
  // log2 may be off by one near powers of two: fix the binade so a / quantum is in [1024, 2048) for normals.
  while (e > -14 && a / quantum >= 2048) quantum *= 2;
  while (a / quantum < 1024 && quantum > 2 ** -24) quantum /= 2;
  const q = a / quantum; // exact: a has 24 significant bits, quantum is a power of two
  let m = Math.floor(q);
  const frac = q - m;
  if (frac > 0.5 || (frac === 0.5 && m % 2 === 1)) m++;
  const rounded = m * quantum;
  if (rounded >= 65536) return sign | 0x7c00; // past the largest half (65504) by rounding: inf
  if (rounded < 2 ** -14) return sign | Math.round(rounded / 2 ** -24); // subnormal (or zero, or the smallest normal by carry)
  const exp = Math.floor(Math.log2(rounded));
  const fixedExp = rounded >= 2 ** (exp + 1) ? exp + 1 : rounded < 2 ** exp ? exp - 1 : exp;
  return sign | ((fixedExp + 15) << 10) | (rounded / 2 ** fixedExp * 1024 - 1024);
}

/** The batch conversion of commit bc9de93 (one half per store), kept as a second reference. */
function previousFloatsToHalves(src: Float32Array, dst: Uint16Array): void {
  const bits = new Int32Array(src.buffer, src.byteOffset, src.length);
  const F32 = new Float32Array(1);
  const U32 = new Uint32Array(F32.buffer);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const abs = x & 0x7fffffff;
    if (abs >= 0x38800000 && abs < 0x47800000) {
      dst[i] = ((x >>> 16) & 0x8000) | (((abs + 0xfff + ((abs >>> 13) & 1)) >>> 13) - 0x1c000);
    } else {
      U32[0] = x;
      dst[i] = floatToHalf(F32[0]!);
    }
  }
}

/** Float32 bit patterns around every binary16 rounding position: ties, one below and one above, at every exponent and both signs. */
function edgePatterns(): Uint32Array {
  const out: number[] = [];
  for (let sign = 0; sign < 2; sign++) {
    for (let exp = 0; exp < 256; exp++) {
      // Bits dropped by the conversion: 13 for normal halves, up to 24 (and beyond: all) for subnormals.
      const dropped = Math.min(Math.max(13, 13 + (113 - exp)), 23);
      const tie = 1 << (dropped - 1);
      for (const kept of [0, 1, 2, 3, 0x3fe, 0x3ff, 0x155, 0x2aa]) {
        const high = (kept << dropped) & 0x7fffff;
        for (const low of [0, 1, tie - 1, tie, tie + 1, (1 << dropped) - 1, tie >>> 1, tie + (tie >>> 1)]) {
          out.push(((sign << 31) | (exp << 23) | ((high | (low & ((1 << dropped) - 1))) & 0x7fffff)) >>> 0);
        }
      }
    }
  }
  // NaN payloads (quiet, signalling, all ones), infinities, zeros, the overflow threshold and its neighbours.
  for (const b of [0x7f800000, 0x7f800001, 0x7fc00000, 0x7fbfffff, 0x7fffffff, 0x7fa00000, 0x00000000, 0x00000001, 0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x477fffff, 0x47800000, 0x33000000, 0x33000001, 0x32ffffff, 0x387fe000, 0x387ff000, 0x387fffff, 0x38800000]) {
    out.push(b, (b | 0x80000000) >>> 0);
  }
  return Uint32Array.from(out);
}

function check(bits: Uint32Array, label: string): void {
  // Through three layouts: 4-byte aligned (pairs), 2-byte aligned (one lane), and an odd length (pairs and a tail).
  const src = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
  const aligned = new Uint16Array(src.length);
  floatsToHalves(src, aligned);
  const shifted = new Uint16Array(src.length + 1).subarray(1);
  floatsToHalves(src, shifted);
  const odd = new Uint16Array(Math.max(src.length - 1, 0));
  floatsToHalves(src.subarray(0, odd.length), odd);
  const previous = new Uint16Array(src.length);
  previousFloatsToHalves(src, previous);
  for (let i = 0; i < src.length; i++) {
    const want = floatToHalf(src[i]!);
    const ctx = () => `${label}: float bits 0x${bits[i]!.toString(16)} (${src[i]}): want 0x${want.toString(16)}`;
    assert.equal(refHalf(src[i]!), want, `${ctx()}, independent reference 0x${refHalf(src[i]!).toString(16)}`);
    assert.equal(previous[i], want, `${ctx()}, previous batch conversion 0x${previous[i]!.toString(16)}`);
    assert.equal(aligned[i], want, `${ctx()}, aligned 0x${aligned[i]!.toString(16)}`);
    assert.equal(shifted[i], want, `${ctx()}, misaligned 0x${shifted[i]!.toString(16)}`);
    if (i < odd.length) assert.equal(odd[i], want, `${ctx()}, odd length 0x${odd[i]!.toString(16)}`);
  }
}

test('float16 codec - floatsToHalves at every rounding edge, NaN, inf, -0, subnormals and overflow', () => {
  check(edgePatterns(), 'edges');
});

test('float16 codec - floatsToHalves on random float32 bit patterns and on latent-like values', () => {
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  check(Uint32Array.from({ length: 1 << 18 }, rnd), 'random bits');
  // Values of the size latents have, where almost every element takes the normal path.
  const latent = new Float32Array(1 << 16).map(() => ((rnd() / 2 ** 32) * 2 - 1) * 4);
  check(new Uint32Array(latent.buffer), 'latent-like');
});

test('float16 codec - halvesToFloats: every half, aligned, misaligned and odd lengths, and the finiteness flag', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
  const want = (h: number) => Math.fround(halfToFloat(h));
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  const layouts: Array<[string, Uint16Array]> = [
    ['aligned', all],
    ['misaligned', (() => { const m = new Uint16Array(65537).subarray(1); m.set(all); return m; })()],
    ['odd length', all.subarray(0, 65535)],
  ];
  for (const [label, src] of layouts) {
    const dst = new Float32Array(src.length);
    halvesToFloats(src, dst);
    for (let i = 0; i < src.length; i++) assert.ok(same(dst[i]!, want(src[i]!)), `${label}: half 0x${src[i]!.toString(16)} -> ${dst[i]}`);
  }
  // The finiteness flag sees a non-finite half in either lane of a pair, and in the tail.
  for (const bad of [0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xffff]) {
    for (const len of [1, 2, 3, 8, 9]) {
      for (let at = 0; at < len; at++) {
        const src = new Uint16Array(len).fill(0x3c00);
        src[at] = bad;
        assert.equal(halvesToFloats(src, new Float32Array(len)), false, `0x${bad.toString(16)} at ${at} of ${len}`);
        const shifted = new Uint16Array(len + 1).subarray(1);
        shifted.set(src);
        assert.equal(halvesToFloats(shifted, new Float32Array(len)), false, `misaligned: 0x${bad.toString(16)} at ${at} of ${len}`);
      }
    }
  }
  const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
  assert.equal(halvesToFloats(finite, new Float32Array(finite.length)), true);
});

test('float16 codec - encode and decode over fresh (unzeroed) buffers give exact tensors', () => {
  for (const n of [1, 2, 3, 1023, 1024, 1025, 65536, 65537]) {
    const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3);
    const t16 = encodeTensor(data, [n], 'float16') as Tensor__Output;
    const halves = new Uint16Array(n);
    floatsToHalves(data, halves);
    assert.deepEqual(new Uint16Array(t16.data.buffer, t16.data.byteOffset, n), halves);
    const back = decodeTensor(t16, 'x', { requireFinite: true }).data;
    const want = new Float32Array(n);
    halvesToFloats(halves, want);
    assert.deepEqual(back, want);
    const t32 = encodeTensor(data, [n], 'float32') as Tensor__Output;
    assert.deepEqual(decodeTensor(t32, 'x').data, data);
  }
  const u = uninitializedFloat32Array(5000);
  assert.equal(u.length, 5000);
  assert.equal(u.byteOffset, 0);
  assert.equal(u.buffer.byteLength, 20000);
});

test('float16 codec - a handed-over decode can be claimed once, other arrays never', () => {
  const t = encodeTensor(new Float32Array(8).fill(1), [8], 'float16') as Tensor__Output;
  const mine = decodeTensor(t, 'x', { handOver: true }).data;
  assert.equal(takeOver(mine), true);
  assert.equal(takeOver(mine), false, 'claimed once only');
  assert.equal(takeOver(decodeTensor(t, 'x').data), false, 'not handed over');
  assert.equal(takeOver(new Float32Array(8)), false);
  const marked = handOver(new Float32Array(4));
  assert.equal(takeOver(marked), true);
});
