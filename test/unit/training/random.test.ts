import { describe, expect, it } from '@jest/globals';

import { mulberry32, randomInt, randomNormal, shuffledIndices } from '../../../src/training/random.js';

describe('seeded random numbers', () => {
  it('repeats exactly for a seed and differs between seeds', () => {
    const draw = (seed: number): number[] => Array.from({ length: 5 }, mulberry32(seed));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('stays in [0, 1) with a mean near one half', () => {
    const random = mulberry32(1);
    const values = Array.from({ length: 20000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(values.reduce((s, v) => s + v, 0) / values.length).toBeCloseTo(0.5, 1);
  });

  it('randomInt covers its range and nothing else', () => {
    const random = mulberry32(2);
    const seen = new Set(Array.from({ length: 1000 }, () => randomInt(random, 6)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('randomNormal has mean 0 and variance 1', () => {
    const random = mulberry32(3);
    const values = Array.from({ length: 40000 }, () => randomNormal(random));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('shuffledIndices is a seeded permutation', () => {
    const order = shuffledIndices(50, mulberry32(4));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledIndices(50, mulberry32(4))).toEqual(order);
  });
});
