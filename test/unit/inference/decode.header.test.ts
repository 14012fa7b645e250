import { describe, expect, it } from '@jest/globals';
import { isFace3dError } from '../../../src/core/errors.js';
import { decodeImage, readImageHeader, type DecodeLimits } from '../../../src/inference/decode.js';
import { fromRaw, IMAGE_ENCODERS, IMAGE_FORMATS, noise, pngDeclaringSize, solid, RED } from '../../helpers/images.js';

const LIMITS: DecodeLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

/** The code readImageHeader and decodeImage end with, or 'ok': they must agree on every input here. */
async function outcomes(bytes: Uint8Array, limits: DecodeLimits = LIMITS): Promise<{ header: string; decode: string }> {
  const codeOf = async (work: () => Promise<unknown>): Promise<string> => {
    try {
      await work();
      return 'ok';
    } catch (error) {
      return isFace3dError(error) ? error.code : `not a Face3dError: ${String(error)}`;
    }
  };
  return { header: await codeOf(() => readImageHeader(bytes, limits)), decode: await codeOf(() => decodeImage(bytes, limits)) };
}

const ENCODERS = IMAGE_ENCODERS;
const FORMATS = IMAGE_FORMATS;

describe('readImageHeader: what enrollment accepts without decoding', () => {
  it.each(FORMATS)('a whole %s gives its format and the size decodeImage gives', async (format) => {
    const bytes = await ENCODERS[format](fromRaw(noise(60, 40), 60, 40)).toBuffer();
    const [header, image] = await Promise.all([readImageHeader(bytes, LIMITS), decodeImage(bytes, LIMITS)]);
    expect(header).toEqual({ format, width: image.width, height: image.height });
  });

  it.each([5, 6, 7, 8])('EXIF orientation %i: the upright size, as decoded', async (orientation) => {
    const bytes = await fromRaw(noise(60, 40), 60, 40).jpeg().withMetadata({ orientation }).toBuffer();
    const [header, image] = await Promise.all([readImageHeader(bytes, LIMITS), decodeImage(bytes, LIMITS)]);
    expect([header.width, header.height]).toEqual([40, 60]);
    expect([image.width, image.height]).toEqual([40, 60]);
  });

  it('a progressive JPEG and a JPEG with bytes after its end are whole', async () => {
    const progressive = await fromRaw(noise(60, 40), 60, 40).jpeg({ progressive: true }).toBuffer();
    const trailing = Buffer.concat([await solid(16, 16, RED).jpeg().toBuffer(), Buffer.alloc(100, 0)]);
    expect(await outcomes(progressive)).toEqual({ header: 'ok', decode: 'ok' });
    expect(await outcomes(trailing)).toEqual({ header: 'ok', decode: 'ok' });
  });

  it.each(['jpeg', 'png', 'webp'] as const)('a %s cut to half its length is CORRUPT_IMAGE, as decoding says', async (format) => {
    const bytes = await ENCODERS[format](fromRaw(noise(300, 200), 300, 200)).toBuffer();
    expect(await outcomes(bytes.subarray(0, bytes.length >> 1))).toEqual({ header: 'CORRUPT_IMAGE', decode: 'CORRUPT_IMAGE' });
  });

  it('a JPEG cut just before its end-of-image marker is CORRUPT_IMAGE', async () => {
    const bytes = await fromRaw(noise(300, 200), 300, 200).jpeg().toBuffer();
    expect((await outcomes(bytes.subarray(0, bytes.length - 2))).header).toBe('CORRUPT_IMAGE');
  });

  it('a PNG whose image data fails its CRC is CORRUPT_IMAGE, as decoding says', async () => {
    const png = await fromRaw(noise(120, 80), 120, 80).png().toBuffer();
    const data = png.indexOf(Buffer.from('IDAT')) + 4;
    png[data + 2] ^= 0xff;
    expect(await outcomes(png)).toEqual({ header: 'CORRUPT_IMAGE', decode: 'CORRUPT_IMAGE' });
  });

  it('limits and unknown formats give the codes decoding gives', async () => {
    const jpeg = await solid(16, 16, RED).jpeg().toBuffer();
    expect(await outcomes(jpeg, { ...LIMITS, maxBytes: jpeg.length - 1 })).toEqual({ header: 'IMAGE_TOO_LARGE', decode: 'IMAGE_TOO_LARGE' });
    expect(await outcomes(pngDeclaringSize(50_000, 50_000))).toEqual({ header: 'IMAGE_TOO_LARGE', decode: 'IMAGE_TOO_LARGE' });
    expect(await outcomes(Buffer.from('this is not a photo'))).toEqual({ header: 'UNSUPPORTED_IMAGE', decode: 'UNSUPPORTED_IMAGE' });
    expect(await outcomes(new Uint8Array(0))).toEqual({ header: 'UNSUPPORTED_IMAGE', decode: 'UNSUPPORTED_IMAGE' });
  });

  it('a GIF without a frame is CORRUPT_IMAGE from its header', async () => {
    const gif = Buffer.from([...Buffer.from('GIF89a'), 64, 0, 48, 0, 0, 0, 0, 0x3b]);
    expect(await outcomes(gif)).toEqual({ header: 'CORRUPT_IMAGE', decode: 'CORRUPT_IMAGE' });
  });
});
