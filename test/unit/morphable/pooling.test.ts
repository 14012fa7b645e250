import { describe, expect, it } from '@jest/globals';

import {
  elementwiseWeightedMedian,
  robustPool,
  splitHalfReliability,
  weightedMean,
  weightedMedian,
  type PersonSamples,
} from '../../../src/morphable/pooling.js';
import { mulberry32, randomNormal, type Random } from '../../../src/training/random.js';

const vec = (...values: number[]): Float64Array => Float64Array.from(values);

function noisyCopies(centre: Float64Array, count: number, noise: number, random: Random): Float64Array[] {
  return Array.from({ length: count }, () => centre.map((v) => v + noise * randomNormal(random)));
}

describe('weighted mean and median', () => {
  it('weightedMean weighs by confidence and reports normalised weights', () => {
    const { pooled, weights } = weightedMean([vec(0, 0), vec(4, 8)], [1, 3]);
    expect(Array.from(pooled)).toEqual([3, 6]);
    expect(Array.from(weights)).toEqual([0.25, 0.75]);
  });

  it('weightedMedian handles odd, even and uneven weights', () => {
    expect(weightedMedian([3, 1, 2], [1, 1, 1])).toBe(2);
    expect(weightedMedian([1, 2], [1, 1])).toBe(1.5);
    expect(weightedMedian([1, 2, 3], [1, 1, 5])).toBe(3);
    expect(weightedMedian([1, 2, 100], [1, 1, 0])).toBe(1.5);
  });

  it('elementwiseWeightedMedian takes each coordinate’s median', () => {
    const { pooled } = elementwiseWeightedMedian([vec(1, 30), vec(2, 10), vec(50, 20)]);
    expect(Array.from(pooled)).toEqual([2, 20]);
  });

  it('rejects empty input, ragged vectors and unusable confidences', () => {
    expect(() => weightedMean([])).toThrow(RangeError);
    expect(() => weightedMean([vec(1), vec(1, 2)])).toThrow(RangeError);
    expect(() => weightedMean([vec(1), vec(2)], [0, 0])).toThrow(RangeError);
    expect(() => weightedMean([vec(1), vec(2)], [1, -1])).toThrow(RangeError);
  });
});

describe('robustPool', () => {
  const random = mulberry32(1);
  const centre = Float64Array.from({ length: 30 }, () => randomNormal(random));
  const inliers = noisyCopies(centre, 6, 0.1, random);
  const outlier = centre.map((v) => v + 5);
  const samples = [...inliers.slice(0, 3), outlier, ...inliers.slice(3)];
  const errorOf = (pooled: Float64Array): number => Math.hypot(...pooled.map((v, i) => v - centre[i]));

  it.each(['tukey', 'huber'] as const)('down-weights an outlier (%s)', (estimator) => {
    const { pooled, weights } = robustPool(samples, undefined, { estimator });
    const inlierWeight = Math.min(...weights.filter((_, i) => i !== 3));
    expect(weights[3]).toBeLessThan(inlierWeight / 5);
    expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    expect(errorOf(pooled)).toBeLessThan(errorOf(weightedMean(samples).pooled) / 3);
  });

  it('Tukey weights reject a gross outlier completely', () => {
    expect(robustPool(samples).weights[3]).toBe(0);
  });

  it('keeps equal weights when nothing stands out', () => {
    const { pooled, weights } = robustPool([vec(0, 0), vec(2, 2)]);
    expect(Array.from(weights)).toEqual([0.5, 0.5]);
    expect(Array.from(pooled)).toEqual([1, 1]);
  });

  it('combines confidences with robustness', () => {
    const { weights } = robustPool(inliers, [1, 1, 1, 1, 1, 0]);
    expect(weights[5]).toBe(0);
  });

  it('refuses a tuning constant that could zero every weight', () => {
    expect(() => robustPool(samples, undefined, { tuning: 1 })).toThrow(RangeError);
  });
});

describe('splitHalfReliability', () => {
  const random = mulberry32(2);
  const people = (count: number, spread: number, noise: number, samples: number): PersonSamples[] =>
    Array.from({ length: count }, () => {
      const truth = Float64Array.from({ length: 8 }, () => spread * randomNormal(random));
      return { vectors: noisyCopies(truth, samples, noise, random) };
    });

  it('is 1 for perfectly repeatable labels', () => {
    const result = splitHalfReliability(people(10, 1, 0, 6));
    expect(result.r2).toBeCloseTo(1, 12);
    result.perCoefficient.forEach((r) => expect(r).toBeCloseTo(1, 12));
  });

  it('is near 0 when people share nothing beyond noise', () => {
    expect(Math.abs(splitHalfReliability(people(200, 0, 1, 6), weightedMean).r2)).toBeLessThan(0.1);
  });

  it('estimates var(truth) / (var(truth) + var(half-pool noise))', () => {
    // Half-pools of 3 samples with noise variance 3 have noise variance 1; truth variance is 1.
    const result = splitHalfReliability(people(400, 1, Math.sqrt(3), 6), weightedMean);
    expect(result.r2).toBeGreaterThan(0.4);
    expect(result.r2).toBeLessThan(0.6);
  });

  it('uses only people with enough samples', () => {
    const result = splitHalfReliability([...people(3, 1, 0.1, 6), ...people(4, 1, 0.1, 5)]);
    expect(result.peopleUsed).toBe(3);
    expect(() => splitHalfReliability(people(2, 1, 0.1, 5))).toThrow(RangeError);
  });
});
