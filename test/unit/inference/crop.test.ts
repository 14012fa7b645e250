import { describe, expect, it } from '@jest/globals';
import { cropToImage, expandToSquare, mirrorCrop, sampleNetworkInput, sampleRegion, wholeImageRegion } from '../../../src/inference/crop.js';
import type { RgbImage } from '../../../src/core/image.js';

/** A 4x2 image whose red channel is the column and green the row. */
function gradientImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x * 10, y * 10, 7], (y * width + x) * 3);
  return { data, width, height };
}

describe('crop', () => {
  it("expands a box asymmetrically by half-sides (the seed's scheme)", () => {
    const region = expandToSquare({ x: 0, y: 0, width: 100, height: 100 }, { left: 1, top: 2, right: 1, bottom: 1 });
    // centre (50, 50), half 50: left 0, right 100, top -50, bottom 100.
    expect(region).toEqual({ centerX: 50, centerY: 25, side: 150, angle: 0 });
  });

  it('samples pixels exactly at unit scale and pads outside the photo with zeros', () => {
    const image = gradientImage(4, 2);
    const crop = sampleRegion(image, wholeImageRegion(4, 2), 4);
    // The square region is 4x4 centred on the 4x2 image: rows 0 and 3 fall outside.
    expect(Array.from(crop.subarray(0, 12))).toEqual(new Array(12).fill(0));
    expect(Array.from(crop.subarray(12, 24))).toEqual([0, 0, 7, 10, 0, 7, 20, 0, 7, 30, 0, 7]);
    expect(Array.from(crop.subarray(24, 27))).toEqual([0, 10, 7]);
  });

  it('matches bilinear sampling tap by tap inside, across and outside the border, values mapped', () => {
    const width = 23, height = 17;
    const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 97 + 13) % 256);
    const image = { data, width, height };
    // Rotated and larger than the photo: pixels inside, on the one-pixel border and outside.
    const region = { centerX: 9.3, centerY: 8.1, side: 30, angle: 0.4 };
    const size = 21;
    const values = { scale: 1 / 127.5, offset: -1 };
    const crop = sampleRegion(image, region, size, values);
    const pixel = (x: number, y: number, c: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : data[(y * width + x) * 3 + c]);
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const p = cropToImage(region, size, u + 0.5, v + 0.5);
        const x = p.x - 0.5, y = p.y - 0.5;
        const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
        for (let c = 0; c < 3; c++) {
          const bilinear = (1 - fx) * (1 - fy) * pixel(x0, y0, c) + fx * (1 - fy) * pixel(x0 + 1, y0, c) + (1 - fx) * fy * pixel(x0, y0 + 1, c) + fx * fy * pixel(x0 + 1, y0 + 1, c);
          expect(crop[(v * size + u) * 3 + c]).toBeCloseTo(bilinear * values.scale + values.offset, 4);
        }
      }
    }
  });

  it('writes every value of a given array (a reused one), as into a new one, and refuses one of the wrong size', () => {
    const width = 23, height = 17;
    const image = { data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 31 + 5) % 256), width, height };
    const region = { centerX: 6.2, centerY: 11.7, side: 40, angle: -0.3 };
    const layout = { layout: 'chw', channels: 'bgr', mean: [127.5, 120, 110], scale: 1 / 128, mirrored: true } as const;
    const reused = new Float32Array(15 * 15 * 3).fill(Number.NaN);
    expect(sampleRegion(image, region, 15, { scale: 2, offset: -3 }, reused)).toBe(reused);
    expect(reused).toEqual(sampleRegion(image, region, 15, { scale: 2, offset: -3 }));
    reused.fill(Number.NaN);
    expect(sampleNetworkInput(image, region, 15, layout, reused)).toBe(reused);
    expect(reused).toEqual(sampleNetworkInput(image, region, 15, layout));
    expect(() => sampleRegion(image, region, 15, undefined, new Float32Array(10))).toThrow(RangeError);
    expect(() => sampleNetworkInput(image, region, 15, layout, new Float32Array(15 * 15 * 3 + 1))).toThrow(RangeError);
  });

  it('rotates the sampling grid with the region angle and maps crop points back', () => {
    const region = { centerX: 10, centerY: 20, side: 8, angle: Math.PI / 2 };
    const p = cropToImage(region, 8, 8, 4); // right-middle of the crop
    expect(p.x).toBeCloseTo(10, 10);
    expect(p.y).toBeCloseTo(24, 10);
  });
});

describe('mirrorCrop', () => {
  it('reverses each row of pixels and keeps each pixel\'s channels in order', () => {
    // 2x2 RGB: pixel (x, y) holds 10 * (2y + x) + channel.
    const crop = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
    expect(Array.from(mirrorCrop(crop, 2))).toEqual([10, 11, 12, 0, 1, 2, 30, 31, 32, 20, 21, 22]);
  });

  it('is its own inverse and leaves its input alone', () => {
    const crop = Float32Array.from({ length: 5 * 5 * 3 }, (_, i) => i * 7 % 13);
    const copy = Float32Array.from(crop);
    expect(mirrorCrop(mirrorCrop(crop, 5), 5)).toEqual(crop);
    expect(crop).toEqual(copy);
  });

  it('refuses a crop of the wrong size', () => {
    expect(() => mirrorCrop(new Float32Array(11), 2)).toThrow(RangeError);
  });
});
