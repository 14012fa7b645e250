import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cosineSimilarity } from '../../../src/core/vector.js';
import { VectorIndex } from '../../../src/search/vector-index.js';

const DIMENSION = 4;
const vectorArbitrary = fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: DIMENSION, maxLength: DIMENSION });

/** The obvious answer: score everything, sort, cut. */
function bruteForce(entries: ReadonlyMap<string, number[]>, query: number[], k: number): { id: string; score: number }[] {
  return [...entries]
    .map(([id, vector]) => ({ id, score: cosineSimilarity(Float32Array.from(vector), Float32Array.from(query)) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

describe('VectorIndex', () => {
  it('returns the k best by cosine similarity, as a brute-force sort does, after any adds and removes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), vectorArbitrary, fc.boolean()), { maxLength: 40 }),
        vectorArbitrary,
        fc.integer({ min: 0, max: 10 }),
        (operations, query, k) => {
          const index = new VectorIndex(DIMENSION, { capacity: 1 });
          const expected = new Map<string, number[]>();
          for (const [id, vector, remove] of operations) {
            if (remove) {
              expect(index.remove(id)).toBe(expected.delete(id));
            } else {
              index.upsert(id, vector);
              expected.set(id, vector);
            }
          }
          expect(index.size).toBe(expected.size);
          const actual = index.search(query, k);
          const wanted = bruteForce(expected, query, k);
          // The k best scores, each reported for an id that truly has it (ties may come in either order).
          expect(actual.map((hit) => hit.score)).toEqual(wanted.map((hit) => expect.closeTo(hit.score, 5)));
          expect(new Set(actual.map((hit) => hit.id)).size).toBe(actual.length);
          for (const hit of actual) {
            expect(hit.score).toBeCloseTo(cosineSimilarity(Float32Array.from(expected.get(hit.id)!), Float32Array.from(query)), 5);
          }
        },
      ),
    );
  });

  it('stores unit vectors, scores a zero vector 0, and keeps the other rows when one is removed', () => {
    const index = new VectorIndex(2);
    index.upsert('x', [3, 4]);
    index.upsert('zero', [0, 0]);
    index.upsert('y', [0, -2]);
    expect(Array.from(index.get('x')!)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(index.score('zero', [1, 1])).toBe(0);
    expect(index.remove('x')).toBe(true);
    expect(index.has('x')).toBe(false);
    expect(Array.from(index.get('y')!)).toEqual([0, -1]);
    expect(index.search([0, -1], 5)).toEqual([
      { id: 'y', score: 1 },
      { id: 'zero', score: 0 },
    ]);
  });

  it('replaces a vector given again for the same id', () => {
    const index = new VectorIndex(2);
    index.upsert('x', [1, 0]);
    index.upsert('x', [0, 1]);
    expect(index.size).toBe(1);
    expect(index.search([0, 1], 1)).toEqual([{ id: 'x', score: 1 }]);
  });

  it('refuses vectors of the wrong length or with NaN', () => {
    const index = new VectorIndex(3);
    expect(() => index.upsert('x', [1, 2])).toThrow(/2 values, the index holds 3/);
    expect(() => index.upsert('x', [1, Number.NaN, 0])).toThrow(/value 1 is NaN/);
    expect(() => index.search([1, 2, 3, 4], 1)).toThrow(RangeError);
    expect(index.size).toBe(0);
  });

  it('grows past its initial capacity', () => {
    const index = new VectorIndex(2, { capacity: 1 });
    for (let i = 0; i < 100; i++) index.upsert(`v${i}`, [Math.cos(i), Math.sin(i)]);
    expect(index.size).toBe(100);
    expect(index.search([Math.cos(42), Math.sin(42)], 1)[0]).toEqual({ id: 'v42', score: expect.closeTo(1, 5) });
  });
});
