/**
 * Property-based checks of the image decoder on hostile bytes: whatever it is given, it returns
 * an image of sane dimensions or throws a Face3dError with a documented code, never anything else.
 * (decode.test.ts covers random bytes and bit flips; these reach deeper into the parsers.)
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sharp from 'sharp';
import { isFace3dError } from '../../../src/core/errors.js';
import { decodeImage, type DecodeLimits } from '../../../src/inference/decode.js';
import { crc32 } from '../../helpers/images.js';

const LIMITS: DecodeLimits = { maxBytes: 1 << 20, maxPixels: 1_000_000 };
const DOCUMENTED_CODES = ['CORRUPT_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE'];

/** 'decoded' for a sane image, the code of a documented refusal, or a description of what went wrong. */
async function outcome(bytes: Uint8Array): Promise<string> {
  try {
    const image = await decodeImage(bytes, LIMITS);
    const sane =
      Number.isInteger(image.width) && Number.isInteger(image.height) && image.width >= 1 && image.height >= 1 &&
      image.width * image.height <= LIMITS.maxPixels && image.data.length === image.width * image.height * 3;
    return sane ? 'decoded' : `insane image ${image.width}x${image.height}, ${image.data.length} bytes`;
  } catch (error) {
    if (isFace3dError(error) && DOCUMENTED_CODES.includes(error.code)) return error.code;
    return `unexpected ${isFace3dError(error) ? error.code : String(error)}`;
  }
}

const ALLOWED = ['decoded', ...DOCUMENTED_CODES];

async function checkAll(arbitrary: fc.Arbitrary<Uint8Array>, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (bytes) => {
      expect(ALLOWED).toContain(await outcome(bytes));
    }),
    { numRuns },
  );
}

function photo(): Promise<{ jpeg: Buffer; png: Buffer }> {
  const width = 48;
  const height = 32;
  const pixels = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256));
  const image = () => sharp(pixels, { raw: { width, height, channels: 3 } });
  return Promise.all([image().jpeg().toBuffer(), image().png().toBuffer()]).then(([jpeg, png]) => ({ jpeg, png }));
}

const MAGICS: readonly number[][] = [
  [0xff, 0xd8, 0xff],
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [...Buffer.from('GIF89a')],
  [...Buffer.from('RIFF'), 0x40, 0, 0, 0, ...Buffer.from('WEBPVP8 ')],
  [...Buffer.from('II*\0')],
  [...Buffer.from('MM\0*')],
  [0, 0, 0, 24, ...Buffer.from('ftypavif\0\0\0\0mif1avif')],
];

describe('decodeImage on hostile input (property-based)', () => {
  it('bytes behind the magic number of every accepted format', async () => {
    const bytes = fc.tuple(fc.constantFrom(...MAGICS), fc.uint8Array({ maxLength: 2048 })).map(([magic, rest]) => Uint8Array.from([...magic, ...rest]));
    await checkAll(bytes, 300);
  });

  it('valid JPEG and PNG files with random bytes spliced in, cut out or duplicated', async () => {
    const { jpeg, png } = await photo();
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.nat(64),
      insert: fc.uint8Array({ maxLength: 64 }),
      repeat: fc.boolean(),
    });
    const damaged = fc.tuple(fc.constantFrom(jpeg, png), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([valid, edits]) => {
      let bytes = Buffer.from(valid);
      for (const { at, remove, insert, repeat } of edits) {
        const start = at % (bytes.length + 1);
        const middle = repeat ? bytes.subarray(start, start + remove) : Buffer.from(insert);
        bytes = Buffer.concat([bytes.subarray(0, start), middle, bytes.subarray(repeat ? start : start + remove)]);
      }
      return new Uint8Array(bytes);
    });
    await checkAll(damaged, 200);
  });

  it('PNG headers declaring any size, bit depth and colour type, with valid checksums', async () => {
    const { png } = await photo();
    const header = fc.record({
      width: fc.oneof(fc.nat(64), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 32 - 1, 50_000)),
      height: fc.oneof(fc.nat(64), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 32 - 1, 50_000)),
      depth: fc.constantFrom(0, 1, 2, 4, 8, 16, 3, 255),
      colour: fc.constantFrom(0, 2, 3, 4, 6, 1, 7),
      interlace: fc.constantFrom(0, 1, 2),
    });
    const rewritten = header.map(({ width, height, depth, colour, interlace }) => {
      const bytes = Buffer.from(png);
      // IHDR data starts at byte 16: width, height, depth, colour type, compression, filter, interlace.
      bytes.writeUInt32BE(width, 16);
      bytes.writeUInt32BE(height, 20);
      bytes[24] = depth;
      bytes[25] = colour;
      bytes[28] = interlace;
      bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
      return new Uint8Array(bytes);
    });
    await checkAll(rewritten, 150);
  });

  it('JPEG frame headers declaring any size and component count', async () => {
    const { jpeg } = await photo();
    const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(frame).toBeGreaterThan(0);
    const header = fc.record({ height: fc.integer({ min: 0, max: 0xffff }), width: fc.integer({ min: 0, max: 0xffff }), components: fc.constantFrom(0, 1, 2, 3, 4, 255), precision: fc.constantFrom(8, 12, 16, 0) });
    const rewritten = header.map(({ height, width, components, precision }) => {
      const bytes = Buffer.from(jpeg);
      // SOF0: marker, length (2), precision, height (2), width (2), components.
      bytes[frame + 4] = precision;
      bytes.writeUInt16BE(height, frame + 5);
      bytes.writeUInt16BE(width, frame + 7);
      bytes[frame + 9] = components;
      return new Uint8Array(bytes);
    });
    await checkAll(rewritten, 150);
  });
});
