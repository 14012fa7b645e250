import { describe, expect, it } from '@jest/globals';

import {
  alignSimilarity,
  applySimilarity,
  centroidSize,
  eulerToRotation,
  generalisedProcrustesMean,
  rotationToEuler,
  type Rotation,
} from '../../../src/morphable/procrustes.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

function randomPoints(count: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  return Float64Array.from({ length: count * 3 }, () => randomNormal(random));
}

function determinant(r: Rotation): number {
  return r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
}

function expectArrayClose(actual: ArrayLike<number>, expected: ArrayLike<number>, digits: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

describe('alignSimilarity', () => {
  const source = randomPoints(20, 1);
  const rotation = eulerToRotation({ yaw: 35, pitch: -20, roll: 10 });
  const translation = Float64Array.of(1, -2, 3);
  const target = applySimilarity(source, rotation, 1.7, translation);

  it('recovers a known rotation, scale and translation', () => {
    const fit = alignSimilarity(source, target);
    expectArrayClose(fit.rotation, rotation, 10);
    expect(fit.scale).toBeCloseTo(1.7, 10);
    expectArrayClose(fit.translation, translation, 10);
    expectArrayClose(fit.aligned, target, 10);
    expect(fit.rmsd).toBeLessThan(1e-10);
  });

  it('never returns a reflection, even for a mirrored target', () => {
    const mirrored = target.map((v, i) => (i % 3 === 0 ? -v : v));
    const fit = alignSimilarity(source, mirrored);
    expect(determinant(fit.rotation)).toBeCloseTo(1, 10);
    expect(fit.rmsd).toBeGreaterThan(0.1);
    // Still the best proper fit: no rotation in a coarse search does better.
    for (const yaw of [0, 90, 180, 270]) {
      const other = applySimilarity(source, eulerToRotation({ yaw, pitch: 0, roll: 0 }), fit.scale, fit.translation);
      let error = 0;
      for (let i = 0; i < other.length; i++) error += (other[i] - mirrored[i]) ** 2;
      expect(Math.sqrt(error / 20)).toBeGreaterThanOrEqual(fit.rmsd);
    }
  });

  it('ignores points of weight zero', () => {
    const corrupted = Float64Array.from(target);
    corrupted.set([100, 100, 100], 6);
    const weights = Array.from({ length: 20 }, (_, i) => (i === 2 ? 0 : 1));
    const fit = alignSimilarity(source, corrupted, weights);
    expectArrayClose(fit.rotation, rotation, 9);
    expect(fit.scale).toBeCloseTo(1.7, 9);
    expect(fit.rmsd).toBeLessThan(1e-9);
    expect(alignSimilarity(source, corrupted).rmsd).toBeGreaterThan(1);
  });

  it('rejects degenerate or mismatched input', () => {
    expect(() => alignSimilarity(new Float64Array(6), new Float64Array(6))).toThrow(RangeError);
    expect(() => alignSimilarity(source, target.subarray(3))).toThrow(RangeError);
    expect(() => alignSimilarity(source.subarray(1), target.subarray(1))).toThrow(RangeError);
  });
});

describe('Euler angles', () => {
  it('round-trips through the rotation matrix', () => {
    for (const angles of [
      { yaw: 35, pitch: -20, roll: 10 },
      { yaw: -80, pitch: 170, roll: -120 },
      { yaw: 0, pitch: 0, roll: 0 },
    ]) {
      const back = rotationToEuler(eulerToRotation(angles));
      expect(back.yaw).toBeCloseTo(angles.yaw, 9);
      expect(back.pitch).toBeCloseTo(angles.pitch, 9);
      expect(back.roll).toBeCloseTo(angles.roll, 9);
    }
  });

  it('follows the documented axes: yaw about y, pitch about x, roll about z', () => {
    // Yaw +90 turns +z into +x; pitch +90 turns +y into +z; roll +90 turns +x into +y.
    const apply = (r: Rotation, v: number[]): number[] => [0, 1, 2].map((row) => r[row * 3] * v[0] + r[row * 3 + 1] * v[1] + r[row * 3 + 2] * v[2]);
    expectArrayClose(apply(eulerToRotation({ yaw: 90, pitch: 0, roll: 0 }), [0, 0, 1]), [1, 0, 0], 12);
    expectArrayClose(apply(eulerToRotation({ yaw: 0, pitch: 90, roll: 0 }), [0, 1, 0]), [0, 0, 1], 12);
    expectArrayClose(apply(eulerToRotation({ yaw: 0, pitch: 0, roll: 90 }), [1, 0, 0]), [0, 1, 0], 12);
  });

  it('reports gimbal lock as roll 0 with the same rotation', () => {
    const rotation = eulerToRotation({ yaw: 90, pitch: 30, roll: 20 });
    const angles = rotationToEuler(rotation);
    expect(angles.yaw).toBeCloseTo(90, 6);
    expect(angles.roll).toBe(0);
    expectArrayClose(eulerToRotation(angles), rotation, 9);
  });
});

describe('generalisedProcrustesMean', () => {
  const base = randomPoints(15, 2);
  const shapes = [
    { yaw: 0, pitch: 0, roll: 0, scale: 1 },
    { yaw: 40, pitch: 10, roll: -5, scale: 2 },
    { yaw: -25, pitch: -30, roll: 60, scale: 0.5 },
    { yaw: 80, pitch: 5, roll: 15, scale: 1.5 },
  ].map(({ scale, ...angles }, i) => applySimilarity(base, eulerToRotation(angles), scale, [i, -i, 2 * i]));

  it('finds the common shape, centred, at the inputs’ mean size', () => {
    const { mean, aligned, iterations } = generalisedProcrustesMean(shapes, { iterations: 20 });
    expect(iterations).toBeLessThan(20);
    expect(alignSimilarity(base, mean).rmsd).toBeLessThan(1e-9);
    const meanSize = shapes.reduce((sum, s) => sum + centroidSize(s), 0) / shapes.length;
    expect(centroidSize(mean)).toBeCloseTo(meanSize, 9);
    for (let axis = 0; axis < 3; axis++) expect(mean.filter((_, i) => i % 3 === axis).reduce((s, v) => s + v, 0)).toBeCloseTo(0, 9);
    aligned.forEach((shape) => expectArrayClose(shape, mean, 8));
  });

  it('averages out independent noise', () => {
    const random = mulberry32(3);
    const noisy = Array.from({ length: 40 }, (_, i) =>
      applySimilarity(base.map((v) => v + 0.05 * randomNormal(random)), eulerToRotation({ yaw: i * 7, pitch: i, roll: -i }), 1 + i / 40, [i, 0, 0]),
    );
    const { mean } = generalisedProcrustesMean(noisy, { iterations: 30 });
    const fit = alignSimilarity(base, mean);
    // Noise of 0.05 per coordinate on one shape, far less on the mean of 40.
    expect(fit.rmsd / fit.scale).toBeLessThan(0.05);
  });
});
