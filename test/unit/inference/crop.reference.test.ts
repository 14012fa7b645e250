import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mirrorCrop, sampleNetworkInput, sampleRegion, wholeImageRegion, type NetworkInputLayout, type SquareRegion, type ValueMap } from '../../../src/inference/crop.js';
import { decodeImage } from '../../../src/inference/decode.js';
import { DETECTOR_INPUT_SIZE } from '../../../src/inference/detector.js';
import { FEATURE_NETWORKS, featureInput } from '../../../src/inference/feature-networks.js';
import { LANDMARK_INPUT_SIZE } from '../../../src/inference/landmarks.js';
import type { RgbImage } from '../../../src/core/image.js';
import { mulberry32 } from '../../../src/training/random.js';
import { lfwPeople } from '../../helpers/lfw.js';

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
  const sampled = referenceSample(image, region, size, { scale: 1, offset: 0 });
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

/** The values' bits, so that +0 and −0 (and any NaN) count as different. */
function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** The first index where two crops' bits differ (-1: none), quicker than a deep comparison of whole crops. */
function firstDifference(ours: Float32Array, reference: Float32Array): number {
  const a = bits(ours), b = bits(reference);
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((value, i) => value !== b[i]);
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

describe('sampleRegion on level regions (taps and weights worked out per row and column)', () => {
  it('gives the per-tap sum for angles 0 and −0, bit for bit', () => {
    const next = mulberry32(23);
    for (let trial = 0; trial < 60; trial++) {
      const { image, region, size } = randomCase(next);
      for (const angle of [0, -0]) {
        const level = { ...region, angle };
        for (const values of [{ scale: 1, offset: 0 }, { scale: 1 / 127.5, offset: -1 }]) {
          expect(bits(sampleRegion(image, level, size, values))).toEqual(bits(referenceSample(image, level, size, values)));
        }
        const input: NetworkInputLayout = { layout: 'chw', channels: 'bgr', mean: [127, 127, 127], scale: 1 / 128, mirrored: trial % 2 === 0 };
        expect(bits(sampleNetworkInput(image, level, size, input))).toEqual(bits(referenceInput(image, level, size, input)));
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
        expect(firstDifference(featureInput(spec, image, region, mirrored), referenceInput(image, region, spec.inputSize, input))).toBe(-1);
      }
    }
  });
});

const people = lfwPeople(1);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn('crop.reference.test.ts: the crops of real photos skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

describeWithLfw('the crops the pipeline cuts from LFW dev photos', () => {
  let images: RgbImage[];

  beforeAll(async () => {
    images = await Promise.all(people!.slice(0, 12).map(async (person) => decodeImage(await readFile(person.photos[0]))));
  });

  it('are, bit for bit, the reference\'s: the detector\'s whole photo, FaceMesh\'s and the identity network\'s faces, level and tilted', () => {
    const detector = { scale: 1 / 127.5, offset: -1 }, landmarks = { scale: 1 / 255, offset: 0 };
    const spec = FEATURE_NETWORKS['fr-feature'];
    for (const [i, image] of images.entries()) {
      const whole = wholeImageRegion(image.width, image.height);
      expect(firstDifference(sampleRegion(image, whole, DETECTOR_INPUT_SIZE, detector), referenceSample(image, whole, DETECTOR_INPUT_SIZE, detector))).toBe(-1);
      for (const angle of [0, 0.03 * (i - 6)]) {
        // Near the photo's edge too, so some rows run out of it.
        const face = { centerX: image.width * (0.3 + 0.04 * i), centerY: image.height / 2, side: 0.6 * image.width, angle };
        expect(firstDifference(sampleRegion(image, face, LANDMARK_INPUT_SIZE, landmarks), referenceSample(image, face, LANDMARK_INPUT_SIZE, landmarks))).toBe(-1);
        const input: NetworkInputLayout = { layout: 'chw', channels: spec.channels, mean: spec.mean, scale: spec.scale, mirrored: i % 2 === 1 };
        expect(firstDifference(featureInput(spec, image, face, input.mirrored), referenceInput(image, face, spec.inputSize, input))).toBe(-1);
      }
    }
  });
});
