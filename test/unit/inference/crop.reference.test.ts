import { describe, expect, it } from '@jest/globals';
import { mirrorCrop, sampleNetworkInput, sampleRegion, type NetworkInputLayout, type SquareRegion, type ValueMap } from '../../../src/inference/crop.js';
import { FEATURE_NETWORKS, featureInput } from '../../../src/inference/feature-networks.js';
import type { RgbImage } from '../../../src/core/image.js';
import { mulberry32 } from '../../../src/training/random.js';

/**
 * The sampler as it was before its single-pass rewrite (one bilinear sum per tap, per channel, then
 * mapped), kept here so the fast one is pinned to it value for value.
 */
function referenceSample(image: RgbImage, region: SquareRegion, size: number, values: ValueMap): Float32Array {
  const out = new Float32Array(size * size * 3);
  const { data, width, height } = image;
  const scale = region.side / size;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const dx = (u + 0.5 - size / 2) * 1, dy = v + 0.5 - size / 2;
      const x = region.centerX - Math.sin(region.angle) * scale * dy - 0.5 + Math.cos(region.angle) * scale * dx;
      const y = region.centerY + Math.cos(region.angle) * scale * dy - 0.5 + Math.sin(region.angle) * scale * dx;
      const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let corner = 0; corner < 4; corner++) {
          const px = x0 + (corner & 1), py = y0 + (corner >> 1);
          if (px < 0 || py < 0 || px >= width || py >= height) continue;
          sum += ((corner & 1) ? fx : 1 - fx) * ((corner >> 1) ? fy : 1 - fy) * data[(py * width + px) * 3 + c];
        }
        out[(v * size + u) * 3 + c] = sum * values.scale + values.offset;
      }
    }
  }
  return out;
}

/** The network input as featureInput built it before: the float32 HWC crop, mirrored, reordered, normalised, transposed. */
function referenceInput(image: RgbImage, region: SquareRegion, size: number, input: NetworkInputLayout): Float32Array {
  const sampled = sampleRegion(image, region, size);
  const hwc = input.mirrored ? mirrorCrop(sampled, size) : sampled;
  const out = new Float32Array(hwc.length);
  const plane = size * size;
  const order = input.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let pixel = 0; pixel < plane; pixel++) {
    for (let c = 0; c < 3; c++) {
      out[input.layout === 'hwc' ? pixel * 3 + c : c * plane + pixel] = (hwc[pixel * 3 + order[c]] - input.mean[c]) * input.scale;
    }
  }
  return out;
}

function randomCase(next: () => number): { image: RgbImage; region: SquareRegion; size: number } {
  const width = 5 + Math.floor(next() * 60), height = 5 + Math.floor(next() * 60);
  const data = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(next() * 256));
  // Regions inside, across and beyond the photo, rotated either way, larger and smaller than the crop.
  const region = { centerX: (next() * 1.4 - 0.2) * width, centerY: (next() * 1.4 - 0.2) * height, side: 2 + next() * 1.5 * Math.max(width, height), angle: (next() - 0.5) * 2 * Math.PI };
  return { image: { data, width, height }, region, size: 3 + Math.floor(next() * 30) };
}

describe('sampleRegion', () => {
  it('gives, value for value, the per-tap bilinear sum of the photo mapped, on random photos and rotated regions', () => {
    const next = mulberry32(16);
    for (let trial = 0; trial < 60; trial++) {
      const { image, region, size } = randomCase(next);
      for (const values of [{ scale: 1, offset: 0 }, { scale: 1 / 127.5, offset: -1 }, { scale: 1 / 255, offset: 0 }]) {
        expect(sampleRegion(image, region, size, values)).toEqual(referenceSample(image, region, size, values));
      }
    }
  });
});

describe('sampleNetworkInput', () => {
  it('equals the float32 crop mirrored, reordered, normalised and transposed, for every layout', () => {
    const next = mulberry32(61);
    for (let trial = 0; trial < 30; trial++) {
      const { image, region, size } = randomCase(next);
      for (const layout of ['hwc', 'chw'] as const) {
        for (const channels of ['rgb', 'bgr'] as const) {
          for (const mirrored of [false, true]) {
            const input: NetworkInputLayout = { layout, channels, mean: [103.939, 116.779, 123.68], scale: 1 / 128, mirrored };
            expect(sampleNetworkInput(image, region, size, input)).toEqual(referenceInput(image, region, size, input));
          }
        }
      }
    }
  });

  it('is what featureInput feeds each identity network', () => {
    const { image, region } = randomCase(mulberry32(7));
    for (const spec of Object.values(FEATURE_NETWORKS)) {
      for (const mirrored of [false, true]) {
        const input: NetworkInputLayout = { layout: spec.layout === 'nhwc' ? 'hwc' : 'chw', channels: spec.channels, mean: spec.mean, scale: spec.scale, mirrored };
        expect(featureInput(spec, image, region, mirrored)).toEqual(referenceInput(image, region, spec.inputSize, input));
      }
    }
  });
});
