import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import {
  bundleFeatureNetwork,
  DEFAULT_FEATURE_NETWORK,
  FEATURE_NETWORKS,
  featureInput,
  featureInputDims,
  featureModelPath,
  featureNetworkSpec,
  featureRegion,
  featureVector,
  openFeatureNetwork,
} from '../../../src/inference/feature-networks.js';
import type { RgbImage } from '../../../src/core/image.js';
import { identityRegion } from '../../../src/inference/identity.js';
import { DEFAULT_INFERENCE_SETTINGS } from '../../../src/inference/inference-settings.js';
import { FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';
import { Face3dError } from '../../../src/core/errors.js';

/** A photo of one colour. */
function plainImage(r: number, g: number, b: number, size = 64): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i += 3) [data[i], data[i + 1], data[i + 2]] = [r, g, b];
  return { data, width: size, height: size };
}

/** A flat FaceMesh "face": the UV layout scaled to 100 pixels around (100, 100). */
function layoutFace(): Float32Array {
  const points = new Float32Array(FACEMESH_VERTEX_COUNT * 3);
  for (let i = 0; i < FACEMESH_VERTEX_COUNT; i++) {
    points[i * 3] = 100 + (FACEMESH_UVS[i * 2] - 0.5) * 100;
    points[i * 3 + 1] = 100 + (FACEMESH_UVS[i * 2 + 1] - 0.5) * 100;
  }
  return points;
}

/** A photo that is not left-right symmetric, its mirror image, and a region centred on it (so the mirror image's crop is the crop's mirror). */
function asymmetricPhoto(size = 96): { image: RgbImage; mirrorImage: RgbImage; region: { centerX: number; centerY: number; side: number; angle: number } } {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5) * 11) % 251;
  const mirrored = new Uint8Array(data.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mirrored.set(data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3), (y * size + size - 1 - x) * 3);
  return { image: { data, width: size, height: size }, mirrorImage: { data: mirrored, width: size, height: size }, region: { centerX: size / 2, centerY: size / 2, side: 80, angle: 0 } };
}

describe('the identity network table', () => {
  it('names every network with a file that exists, its input and its output size', () => {
    for (const spec of Object.values(FEATURE_NETWORKS)) {
      expect(existsSync(featureModelPath(spec))).toBe(true);
      expect(featureInputDims(spec).reduce((a, b) => a * b, 1)).toBe(spec.inputSize * spec.inputSize * 3);
      expect(spec.dim).toBeGreaterThan(0);
    }
    expect(featureNetworkSpec(DEFAULT_FEATURE_NETWORK).name).toBe(DEFAULT_FEATURE_NETWORK);
  });

  it('reads a bundle\'s network from its manifest, FaceRes for bundles from before the table', () => {
    expect(bundleFeatureNetwork({ featureNetwork: 'fr-feature' })).toBe(FEATURE_NETWORKS['fr-feature']);
    expect(bundleFeatureNetwork({}).name).toBe('faceres');
    const framing = { offset: 0, side: 3, level: false };
    expect(bundleFeatureNetwork({ featureNetwork: 'faceres', identityFraming: framing }).crop).toEqual({ kind: 'landmark-framing', framing });
  });

  it('refuses an unknown network with a typed error', () => {
    expect(() => featureNetworkSpec('no-such-net')).toThrow(Face3dError);
    try {
      featureNetworkSpec('no-such-net');
    } catch (error) {
      expect((error as Face3dError).code).toBe('MODEL_UNAVAILABLE');
    }
  });

  it('normalises and lays out the crop as each network was trained', () => {
    const image = plainImage(10, 20, 30);
    const region = { centerX: 32, centerY: 32, side: 32, angle: 0 };
    const faceres = featureInput(FEATURE_NETWORKS.faceres, image, region);
    // NHWC, BGR minus the ImageNet means.
    expect(Array.from(faceres.subarray(0, 3))).toEqual([30 - 103.939, 20 - 116.779, 10 - 123.68].map((v) => Math.fround(v)));
    const fr = featureInput(FEATURE_NETWORKS['fr-feature'], image, region);
    // NCHW planes of R, G, B as (x − 127) / 128.
    const plane = 112 * 112;
    expect([fr[0], fr[plane], fr[2 * plane]]).toEqual([(10 - 127) / 128, (20 - 127) / 128, (30 - 127) / 128].map((v) => Math.fround(v)));
    expect(fr[plane - 1]).toBeCloseTo((10 - 127) / 128, 6);
  });

  it('crops by the landmark framing or by the five points, as the table says', () => {
    const points = layoutFace();
    expect(featureRegion(FEATURE_NETWORKS.faceres, points)).toEqual(identityRegion(points, FEATURE_NETWORKS.faceres.crop.framing));
    const fivePoint = featureRegion(FEATURE_NETWORKS['fr-feature'], points);
    expect(fivePoint.angle).toBeCloseTo(0, 1);
    expect(fivePoint.side).toBeGreaterThan(30);
    expect(fivePoint.side).toBeLessThan(200);
  });

  it('runs the default network on a real ONNX session: one embedding of the table\'s size', async () => {
    const identity = await openFeatureNetwork(FEATURE_NETWORKS[DEFAULT_FEATURE_NETWORK], { ...DEFAULT_INFERENCE_SETTINGS, batching: { maxBatch: 1, maxDelayMs: 0 } });
    try {
      const image = plainImage(120, 100, 90, 160);
      const vector = await featureVector(identity, image, featureRegion(identity.spec, layoutFace()));
      expect(vector).toHaveLength(identity.spec.dim);
      expect(vector.every(Number.isFinite)).toBe(true);
    } finally {
      await identity.network.close();
    }
  });

  it('with test-time flipping gives a face and its mirror image the same vector: the sum of the unit embeddings of the crop and of its mirror', async () => {
    const plain = await openFeatureNetwork(FEATURE_NETWORKS['fr-feature']);
    const flipped = await openFeatureNetwork(FEATURE_NETWORKS['fr-feature-flip']);
    try {
      const { image, mirrorImage, region } = asymmetricPhoto();
      const unit = (v: Float32Array) => {
        const norm = Math.hypot(...v);
        return v.map((x) => x / norm);
      };
      const [a, b] = [await featureVector(plain, image, region), await featureVector(plain, mirrorImage, region)];
      const expected = unit(a).map((x, i) => x + unit(b)[i]);
      const ofImage = await featureVector(flipped, image, region);
      const ofMirror = await featureVector(flipped, mirrorImage, region);
      for (let i = 0; i < expected.length; i++) {
        expect(ofImage[i]).toBeCloseTo(expected[i], 4);
        expect(ofMirror[i]).toBeCloseTo(expected[i], 4);
      }
      // Not the plain embedding: the photo is not symmetric.
      expect(Math.max(...unit(a).map((x, i) => Math.abs(x - unit(b)[i])))).toBeGreaterThan(0.01);
    } finally {
      await Promise.all([plain.network.close(), flipped.network.close()]);
    }
  });

  it('flips a fused network part by part: each part\'s flipped vector × √weight side by side, the same for the mirror image', async () => {
    const fused = FEATURE_NETWORKS['fr-feature-expo-flip'];
    const opened = await openFeatureNetwork(fused);
    const unflipped = await openFeatureNetwork(FEATURE_NETWORKS['fr-feature-expo']);
    // Each part alone with flipping, on its own ONNX file and its own normalisation.
    const parts = await Promise.all(fused.fusion.map(async (part) => ({ weight: part.weight, identity: await openFeatureNetwork({ ...featureNetworkSpec(part.network), flip: true }) })));
    try {
      const { image, mirrorImage, region } = asymmetricPhoto();
      const expected: number[] = [];
      for (const { weight, identity } of parts) expected.push(...Array.from(await featureVector(identity, image, region), (v) => v * Math.sqrt(weight)));
      expect(expected).toHaveLength(fused.dim);
      const ofImage = await featureVector(opened, image, region);
      const ofMirror = await featureVector(opened, mirrorImage, region);
      for (let i = 0; i < expected.length; i++) {
        expect(ofImage[i]).toBeCloseTo(expected[i], 4);
        expect(ofMirror[i]).toBeCloseTo(expected[i], 4);
      }
      // The unflipped fused vector has norm 1; the flipped one √(2 + c₁ + c₂), c the parts' crop–mirror cosines: under 2, the photo not being symmetric.
      expect(Math.hypot(...(await featureVector(unflipped, image, region)))).toBeCloseTo(1, 4);
      const norm = Math.hypot(...ofImage);
      expect(norm).toBeGreaterThan(1.01);
      expect(norm).toBeLessThan(1.999);
    } finally {
      await Promise.all([opened.network.close(), unflipped.network.close(), ...parts.map((part) => part.identity.network.close())]);
    }
  });
});
