/**
 * Picture size from the first bytes of an image file, without decoding it:
 * PNG (IHDR), GIF (logical screen), BMP (DIB header), WebP (VP8, VP8L,
 * VP8X) and JPEG (the first SOF marker). Upload intake reads it to refuse a
 * decompression bomb — a small file that decodes to gigabytes — by its size
 * before any decoder runs, and to say how large it is. Anything else (a
 * video, an image format not listed, a truncated header) gives undefined;
 * the decoders' own pixel limit (`-max_pixels`, input-reader.ts) covers it.
 */

export interface HeaderSize {
  format: 'png' | 'gif' | 'bmp' | 'webp' | 'jpeg';
  width: number;
  height: number;
}

export function imageHeaderSize(b: Uint8Array): HeaderSize | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ascii = (at: number, s: string) => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 'PNG') && ascii(12, 'IHDR')) {
    return { format: 'png', width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (b.length >= 10 && (ascii(0, 'GIF87a') || ascii(0, 'GIF89a'))) {
    return { format: 'gif', width: v.getUint16(6, true), height: v.getUint16(8, true) };
  }
  if (b.length >= 26 && ascii(0, 'BM')) {
    const dib = v.getUint32(14, true);
    // BITMAPCOREHEADER has 16-bit sizes; the later headers 32-bit, height negative for top-down rows.
    if (dib === 12) return { format: 'bmp', width: v.getUint16(18, true), height: v.getUint16(20, true) };
    return { format: 'bmp', width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
  }
  if (b.length >= 30 && ascii(0, 'RIFF') && ascii(8, 'WEBP')) {
    if (ascii(12, 'VP8X') && b.length >= 31) return { format: 'webp', width: 1 + (v.getUint32(24, true) & 0xffffff), height: 1 + (v.getUint32(27, true) & 0xffffff) };
    if (ascii(12, 'VP8L') && b[20] === 0x2f) {
      const bits = v.getUint32(21, true);
      return { format: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
    }
    if (ascii(12, 'VP8 ') && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
      return { format: 'webp', width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
    }
    return undefined;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegSize(b, v);
  return undefined;
}

/** Walks JPEG markers to the first start-of-frame (SOF0-15 but DHT, JPG and DAC). */
function jpegSize(b: Uint8Array, v: DataView): HeaderSize | undefined {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = v.getUint16(at + 2);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (at + 9 > b.length) return undefined;
      return { format: 'jpeg', height: v.getUint16(at + 5), width: v.getUint16(at + 7) };
    }
    if (marker === 0xda || len < 2) return undefined; // scan data before any frame header
    at += 2 + len;
  }
  return undefined;
}
