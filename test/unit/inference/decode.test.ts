import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sharp from 'sharp';
import { isFace3dError } from '../../../src/core/errors.js';
import { decodeImage, detectImageFormat } from '../../../src/inference/decode.js';
import {
  BLUE,
  RED,
  colourDistance,
  fromRaw,
  IMAGE_ENCODERS,
  IMAGE_FORMATS,
  noise,
  pixelAt,
  pngDeclaringSize,
  rawWithTopLeftMark,
  solid,
  type Rgb,
} from '../../helpers/images.js';

/** The error code a decode ends with, or 'decoded': failures read as a code, not a stack. */
async function outcome(bytes: Uint8Array, limits?: Parameters<typeof decodeImage>[1]): Promise<string> {
  try {
    await decodeImage(bytes, limits);
    return 'decoded';
  } catch (error) {
    return isFace3dError(error) ? error.code : `not a Face3dError: ${String(error)}`;
  }
}

const ENCODERS = IMAGE_ENCODERS;
const FORMATS = IMAGE_FORMATS;

describe('decodeImage: supported formats', () => {
  it.each(FORMATS)('%s decodes to RGB with the right size and colours', async (format) => {
    const raw = rawWithTopLeftMark(48, 32, BLUE, RED, 16);
    const bytes = await ENCODERS[format](fromRaw(raw, 48, 32)).toBuffer();
    expect(detectImageFormat(bytes)).toBe(format);

    const image = await decodeImage(bytes);

    expect([image.width, image.height]).toEqual([48, 32]);
    expect(image.data.length).toBe(48 * 32 * 3);
    expect(colourDistance(pixelAt(image, 2, 2), RED)).toBeLessThan(24);
    expect(colourDistance(pixelAt(image, 45, 29), BLUE)).toBeLessThan(24);
  });

  it('returns the first frame of an animated GIF', async () => {
    const frames = Buffer.concat([rawWithTopLeftMark(8, 6, RED, RED, 0), rawWithTopLeftMark(8, 6, BLUE, BLUE, 0)]);
    const gif = await sharp(frames, { raw: { width: 8, height: 12, channels: 3, pageHeight: 6 } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);

    const image = await decodeImage(gif);

    expect([image.width, image.height]).toEqual([8, 6]);
    expect(pixelAt(image, 0, 0)).toEqual(RED);
    expect(pixelAt(image, 7, 5)).toEqual(RED);
  });

  it('decodes a Uint8Array that views the middle of a larger buffer', async () => {
    const png = await solid(5, 3, RED).png().toBuffer();
    const padded = new Uint8Array(png.length + 20);
    padded.set(png, 10);

    const image = await decodeImage(padded.subarray(10, 10 + png.length));

    expect([image.width, image.height, ...pixelAt(image, 4, 2)]).toEqual([5, 3, ...RED]);
  });
});

describe('decodeImage: EXIF orientation', () => {
  type Corner = 'topLeft' | 'topRight' | 'bottomRight' | 'bottomLeft';
  // Where the stored top-left pixel is displayed, per the EXIF orientation table.
  const cases: ReadonlyArray<[number, Corner, boolean]> = [
    [1, 'topLeft', false],
    [2, 'topRight', false],
    [3, 'bottomRight', false],
    [4, 'bottomLeft', false],
    [5, 'topLeft', true],
    [6, 'topRight', true],
    [7, 'bottomRight', true],
    [8, 'bottomLeft', true],
  ];

  it.each(cases)('orientation %i puts the marked corner at %s (swapped: %s)', async (orientation, corner, swapped) => {
    const [storedWidth, storedHeight] = [64, 32];
    const raw = rawWithTopLeftMark(storedWidth, storedHeight, BLUE, RED, 16);
    const jpeg = await fromRaw(raw, storedWidth, storedHeight).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();

    const image = await decodeImage(jpeg);

    expect([image.width, image.height]).toEqual(swapped ? [storedHeight, storedWidth] : [storedWidth, storedHeight]);
    const corners: Record<Corner, Rgb> = {
      topLeft: pixelAt(image, 1, 1),
      topRight: pixelAt(image, image.width - 2, 1),
      bottomRight: pixelAt(image, image.width - 2, image.height - 2),
      bottomLeft: pixelAt(image, 1, image.height - 2),
    };
    const redCorners = Object.entries(corners).filter(([, colour]) => colourDistance(colour, RED) < 24);
    expect(redCorners.map(([name]) => name)).toEqual([corner]);
  });
});

describe('decodeImage: colour models become 8-bit sRGB RGB', () => {
  it('grayscale JPEG', async () => {
    const jpeg = await solid(8, 4, [100, 100, 100]).toColourspace('b-w').jpeg().toBuffer();
    expect((await sharp(jpeg).metadata()).channels).toBe(1);

    const image = await decodeImage(jpeg);

    expect(image.data.length).toBe(8 * 4 * 3);
    expect(colourDistance(pixelAt(image, 3, 2), [100, 100, 100])).toBeLessThanOrEqual(2);
  });

  it('CMYK JPEG', async () => {
    const jpeg = await solid(8, 4, RED).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');

    const image = await decodeImage(jpeg);

    expect(image.data.length).toBe(8 * 4 * 3);
    const [r, g, b] = pixelAt(image, 3, 2);
    expect(r).toBeGreaterThan(200);
    expect(Math.max(g, b)).toBeLessThan(40);
  });

  it('16-bit PNG', async () => {
    const png = await solid(8, 4, [255, 128, 0]).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');

    const image = await decodeImage(png);

    expect(image.data.length).toBe(8 * 4 * 3);
    expect(colourDistance(pixelAt(image, 3, 2), [255, 128, 0])).toBeLessThanOrEqual(1);
  });

  it('RGBA PNG is flattened onto white', async () => {
    const halfRed = sharp({ create: { width: 4, height: 2, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } });
    const transparent = sharp({ create: { width: 4, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } });

    const half = await decodeImage(await halfRed.png().toBuffer());
    const clear = await decodeImage(await transparent.png().toBuffer());

    expect(half.data.length).toBe(4 * 2 * 3);
    expect(colourDistance(pixelAt(half, 1, 1), [255, 128, 128])).toBeLessThanOrEqual(2);
    expect(pixelAt(clear, 1, 1)).toEqual([255, 255, 255]);
  });
});

describe('decodeImage: refusals', () => {
  it.each(FORMATS)('truncated %s is CORRUPT_IMAGE', async (format) => {
    const bytes = await ENCODERS[format](fromRaw(noise(300, 200), 300, 200)).toBuffer();
    expect(await outcome(bytes)).toBe('decoded');

    expect(await outcome(bytes.subarray(0, bytes.length >> 1))).toBe('CORRUPT_IMAGE');
  });

  it('a JPEG cut inside its header is CORRUPT_IMAGE', async () => {
    const jpeg = await solid(8, 8, RED).jpeg().toBuffer();
    expect(await outcome(jpeg.subarray(0, 40))).toBe('CORRUPT_IMAGE');
  });

  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
  const pdf = '%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n';
  const pseudoRandom = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
  const heicHeader = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1')]);
  const unsupported: ReadonlyArray<[string, Uint8Array]> = [
    ['zero bytes', new Uint8Array(0)],
    ['random bytes', pseudoRandom],
    ['plain text', Buffer.from('hello, this is not a photo\n')],
    ['HTML', Buffer.from('<!doctype html><html><body><img src="x.jpg"></body></html>')],
    ['SVG', Buffer.from(svg)],
    ['PDF', Buffer.from(pdf)],
    ['HEIC header', heicHeader],
  ];

  it.each(unsupported)('%s is UNSUPPORTED_IMAGE with a message naming the accepted formats', async (_name, bytes) => {
    await expect(decodeImage(bytes)).rejects.toMatchObject({
      code: 'UNSUPPORTED_IMAGE',
      message: expect.stringContaining('JPEG, PNG, WebP, GIF, TIFF, AVIF'),
    });
  });

  it('an empty file says it is empty, not that its format is unknown', async () => {
    await expect(decodeImage(new Uint8Array(0))).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', message: expect.stringMatching(/^the file is empty \(0 bytes\): expected JPEG/) });
  });

  it('a tiny PNG declaring 50000x50000 pixels is IMAGE_TOO_LARGE before decoding', async () => {
    const bomb = pngDeclaringSize(50_000, 50_000);
    expect(bomb.length).toBeLessThan(1024);
    const header = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([header.width, header.height]).toEqual([50_000, 50_000]);

    await expect(decodeImage(bomb)).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: expect.stringContaining('50000x50000'),
    });
  });

  it('the pixel limit is inclusive', async () => {
    const png = await solid(100, 100, RED).png().toBuffer();
    expect(await outcome(png, { maxPixels: 10_000 })).toBe('decoded');
    expect(await outcome(png, { maxPixels: 9_999 })).toBe('IMAGE_TOO_LARGE');
  });

  it('the byte limit is inclusive and checked before the format', async () => {
    const png = await solid(10, 10, RED).png().toBuffer();
    expect(await outcome(png, { maxBytes: png.length })).toBe('decoded');
    expect(await outcome(png, { maxBytes: png.length - 1 })).toBe('IMAGE_TOO_LARGE');
    expect(await outcome(Buffer.alloc(100), { maxBytes: 99 })).toBe('IMAGE_TOO_LARGE');
  });
});

describe('decodeImage never crashes', () => {
  const codes = ['decoded', 'CORRUPT_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE'];

  it('on arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        expect(codes).toContain(await outcome(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it.each(FORMATS)('on %s files with flipped bytes or cut short', async (format) => {
    const valid = await ENCODERS[format](fromRaw(rawWithTopLeftMark(32, 24, BLUE, RED, 8), 32, 24)).toBuffer();
    const damage = fc.record({
      flips: fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
      keep: fc.integer({ min: 0, max: valid.length }),
    });
    await fc.assert(
      fc.asyncProperty(damage, async ({ flips, keep }) => {
        const bytes = Buffer.from(valid);
        for (const [at, xor] of flips) bytes[at] ^= xor;
        expect(codes).toContain(await outcome(bytes.subarray(0, keep)));
      }),
      { numRuns: 60 },
    );
  });
});
