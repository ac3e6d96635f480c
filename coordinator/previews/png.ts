/**
 * A minimal PNG encoder for preview images: 8-bit RGB, no interlacing, each
 * row with filter 0 (none), deflated by node:zlib off the main thread.
 * Previews are small (at most 512 px wide), so the filter choice barely
 * matters and the simplest one keeps this file short.
 */
import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The PNG file of an interleaved RGB24 image (`width * height * 3` bytes). */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`PNG size must be positive integers, got ${width}x${height}`);
  const stride = width * 3;
  if (rgb.length !== stride * height) throw new RangeError(`RGB buffer has ${rgb.length} bytes, ${width}x${height} needs ${stride * height}`);
  // Every row starts with its filter byte.
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  // compression, filter method and interlace: 0
  const idat = await deflateAsync(raw, { level: 6 });
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
