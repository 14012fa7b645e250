import { describe, expect, it } from '@jest/globals';

import { cosineSimilarity, dotProduct, identityVectorOf, joinedIdentityVector, l2Norm, l2Normalise, meanTemplate } from '../../../src/core/vector.js';

describe('vector similarity', () => {
  it('computes dot products, norms and cosines', () => {
    const a = Float32Array.of(3, 4);
    const b = Float32Array.of(4, 3);
    expect(dotProduct(a, b)).toBe(24);
    expect(l2Norm(a)).toBe(5);
    expect(cosineSimilarity(a, b)).toBeCloseTo(24 / 25, 7);
    expect(cosineSimilarity(a, Float32Array.of(-6, -8))).toBeCloseTo(-1, 7);
  });

  it('treats a zero vector as similar to nothing', () => {
    expect(cosineSimilarity(Float32Array.of(0, 0), Float32Array.of(1, 0))).toBe(0);
    expect(Array.from(l2Normalise(Float32Array.of(0, 0)))).toEqual([0, 0]);
  });

  it('normalises to unit length without touching the input', () => {
    const v = Float64Array.of(3, 4);
    const unit = l2Normalise(v);
    expect(Array.from(unit)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(v)).toEqual([3, 4]);
  });

  it('mean template weighs every photo equally whatever its magnitude', () => {
    // Without per-vector normalisation the long vector would dominate.
    const template = meanTemplate([Float32Array.of(100, 0), Float32Array.of(0, 1)]);
    expect(template[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(template[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(l2Norm(template)).toBeCloseTo(1, 6);
  });

  it('rejects vectors of different lengths and empty templates', () => {
    expect(() => dotProduct(Float32Array.of(1), Float32Array.of(1, 2))).toThrow(RangeError);
    expect(() => meanTemplate([])).toThrow(RangeError);
  });
});

describe('identity vectors', () => {
  it("take a regressor's output as it is: α and β are views of it, outputs past them left out", () => {
    const output = Float32Array.of(1, 2, 3, 4, 5, 99);
    const exact = identityVectorOf('b', output.subarray(0, 5), 2, 3);
    expect(exact.vector.buffer).toBe(output.buffer);
    expect([Array.from(exact.shape), Array.from(exact.texture)]).toEqual([[1, 2], [3, 4, 5]]);
    const longer = identityVectorOf('b', output, 2, 3);
    expect(Array.from(longer.vector)).toEqual([1, 2, 3, 4, 5]);
    expect(longer.texture.buffer).toBe(output.buffer);
  });

  it('join α and β kept apart into one vector, once', () => {
    const joined = joinedIdentityVector('b', [1, 2], Float32Array.of(3));
    expect(Array.from(joined.vector)).toEqual([1, 2, 3]);
    expect(joined.shape.buffer).toBe(joined.vector.buffer);
    expect(Array.from(joined.texture)).toEqual([3]);
  });
});
