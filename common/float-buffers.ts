/**
 * Latent-sized Float32Arrays on the coordinator's hot path (a Picard round
 * makes several per point, 256 KiB each for a native window).
 *
 * - {@link uninitializedFloat32Array}: an array whose contents are left as
 *   the allocator found them, for callers that write every element before
 *   anything reads one. A `new Float32Array(n)` is zero-filled first
 *   (calloc: a memset or fresh zero pages), a pass over memory that is about
 *   to be overwritten anyway.
 * - {@link handOver} / {@link takeOver}: an array made by one module
 *   (the dispatcher's decoding of a worker output) and owned by whoever
 *   receives it can be reused in place by the one consumer that claims it
 *   (the composite denoiser writes x0 over the raw output it has just
 *   read), instead of that consumer allocating another latent. Only arrays
 *   marked by {@link handOver} can be claimed, and each only once, so an
 *   array from anywhere else (a test's fake model, a caller's own buffer)
 *   is never written.
 */

/** Below this many elements a plain (zeroed) array: V8 allocates small typed arrays on its heap, cheaper than a separate buffer. */
const MIN_UNINITIALIZED = 1024;

/**
 * A Float32Array of `n` elements with unspecified contents (possibly old
 * data of this process): every element must be written before any is read
 * or the array leaves the caller. Backed by a buffer of its own, exactly
 * `4 n` bytes, byte offset 0.
 */
export function uninitializedFloat32Array(n: number): Float32Array {
  if (n < MIN_UNINITIALIZED) return new Float32Array(n);
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}

const handedOver = new WeakSet<Float32Array>();

/**
 * Marks `data` as owned by whoever receives it next, passed on unchanged
 * and kept by no one else: its final receiver may claim it with
 * {@link takeOver} and overwrite it. Returns `data`.
 */
export function handOver(data: Float32Array): Float32Array {
  handedOver.add(data);
  return data;
}

/** True (once) when `data` was marked by {@link handOver}: the caller now owns it and may overwrite it. */
export function takeOver(data: Float32Array): boolean {
  return handedOver.delete(data);
}
