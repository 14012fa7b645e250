/**
 * Whether a photo's bytes are whole, read from their container structure without decoding a
 * pixel: enrollment accepts a photo on its header and this check, and decodes it once, in the
 * worker. Truncation and damaged PNG chunks are what a header alone does not show. Each check
 * says why the bytes cannot be a whole image, or undefined when their structure is whole.
 */
import { crc32 } from 'node:zlib';

const JPEG_SOS = 0xda;
const JPEG_EOI = 0xd9;
/** Markers that stand alone, without a length: TEM, RST0–7, SOI. */
const standsAlone = (marker: number): boolean => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/** The header's segments up to the first scan, then an end-of-image marker after it (entropy-coded data escapes 0xFF, so only a marker reads as FF D9). */
export function jpegProblem(bytes: Uint8Array): string | undefined {
  let offset = 2;
  for (;;) {
    while (offset < bytes.length && bytes[offset] === 0xff && bytes[offset + 1] === 0xff) offset++;
    if (offset + 4 > bytes.length) return 'it ends inside its header';
    if (bytes[offset] !== 0xff) return `no marker at byte ${offset}`;
    const marker = bytes[offset + 1];
    if (standsAlone(marker)) {
      offset += 2;
      continue;
    }
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (length < 2) return `a segment of length ${length}`;
    offset += 2 + length;
    if (marker === JPEG_SOS) break;
  }
  for (let end = bytes.length - 2; end >= offset; end--) {
    if (bytes[end] === 0xff && bytes[end + 1] === JPEG_EOI) return undefined;
  }
  return 'it has no end-of-image marker (truncated)';
}

const PNG_SIGNATURE_BYTES = 8;

/** Every chunk whole, each critical chunk's CRC right (libpng fails on those, skips bad ancillary ones), up to IEND. */
export function pngProblem(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = PNG_SIGNATURE_BYTES; offset + 12 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) return 'a chunk runs past the end of the file (truncated)';
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const critical = type.charCodeAt(0) >= 0x41 && type.charCodeAt(0) <= 0x5a;
    if (critical && crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) return `its ${type} chunk fails its CRC check`;
    if (type === 'IEND') return undefined;
    offset = end;
  }
  return 'it has no IEND chunk (truncated)';
}

/** The RIFF container's declared size against the bytes there. */
export function webpProblem(bytes: Uint8Array): string | undefined {
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) + 8;
  return declared > bytes.length ? `its RIFF container declares ${declared} bytes, ${bytes.length} are there (truncated)` : undefined;
}
