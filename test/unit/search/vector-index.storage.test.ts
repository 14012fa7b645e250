import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { exactTopK, nativeNearest, type BoundedScan } from '../../../src/search/bounded-scan.js';
import { float16Table, toFloat16Bits } from '../../../src/search/float16.js';
import { codeDirectionError, encodeInt8 } from '../../../src/search/int8.js';
import { TopK } from '../../../src/search/top-k.js';
import { VectorIndex, type VectorIndexOptions } from '../../../src/search/vector-index.js';
import { mulberry32, randomNormal, type Random } from '../../../src/training/random.js';

const DIMENSION = 24;

function gaussian(random: Random, dimension = DIMENSION): Float32Array {
  return Float32Array.from({ length: dimension }, () => randomNormal(random));
}

/** Seeded clusters (several noisy copies of each centre), like photos of the same people. */
function clustered(count: number, seed: number): Float32Array[] {
  const random = mulberry32(seed);
  const centres = Array.from({ length: Math.ceil(count / 4) }, () => gaussian(random));
  return Array.from({ length: count }, (_, i) => centres[i % centres.length].map((value) => value + 0.4 * randomNormal(random)));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function unitLength(vector: Float32Array): Float32Array {
  const norm = Math.sqrt(dot(vector, vector));
  return vector.map((value) => value / norm);
}

/** One inserting thread: the same graph on every run, so a test that passes once passes always. */
const SINGLE_THREADED = { threads: 1 } as const;

function filled(vectors: readonly Float32Array[], options: VectorIndexOptions): VectorIndex {
  const index = new VectorIndex(DIMENSION, options);
  vectors.forEach((vector, i) => index.upsert(`v${i}`, vector));
  return index;
}

/** Mean fraction of the exact top-k ids found by `index`. */
function recallAgainst(exact: VectorIndex, index: VectorIndex, queries: readonly Float32Array[], k: number): number {
  let found = 0;
  for (const query of queries) {
    const wanted = new Set(exact.search(query, k).map((hit) => hit.id));
    found += index.search(query, k).filter((hit) => wanted.has(hit.id)).length;
  }
  return found / (queries.length * k);
}

describe('TopK', () => {
  it('keeps what a full sort keeps, best first, equal scores in id order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), fc.integer({ min: 0, max: 12 }), (scores, k) => {
        // Ids in reverse of row order, so that row order alone would break ties the wrong way.
        const idOf = (row: number) => `id${String(1000 - row).padStart(4, '0')}`;
        const top = new TopK(k, idOf);
        scores.forEach((score, row) => top.offer(row, score));
        const expected = scores
          .map((score, row) => ({ row, score }))
          .sort((a, b) => b.score - a.score || (idOf(a.row) < idOf(b.row) ? -1 : 1))
          .slice(0, k);
        expect(top.ranked()).toEqual(expected);
      }),
    );
  });
});

describe('exactTopK over a scan with bounded error', () => {
  const idOf = (row: number) => `id${String(row).padStart(4, '0')}`;

  it('finds what a full sort finds, ties included, however the approximate scores err within the bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -4, max: 4 }), fc.double({ min: -1, max: 1, noNaN: true })), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 12 }),
        (rows, k, firstCount) => {
          const error = 0.5;
          // Integer scores make ties common; each approximate score is off by up to the bound.
          const exact = rows.map(([score]) => score);
          const approximate = rows.map(([score, noise]) => score + noise * error);
          const order = approximate.map((_, row) => row).sort((a, b) => approximate[b] - approximate[a]);
          let rounds = 0;
          const scan: BoundedScan = {
            error,
            nearest: (count) => {
              rounds++;
              const chosen = order.slice(0, count);
              return { rows: chosen, scores: Float32Array.from(chosen, (row) => approximate[row]) };
            },
          };
          const wanted = Math.min(k, rows.length);
          const top = new TopK(wanted, idOf);
          exactTopK(scan, rows.length, firstCount, (row) => exact[row], top);
          const expected = exact
            .map((score, row) => ({ row, score }))
            .sort((a, b) => b.score - a.score || a.row - b.row)
            .slice(0, wanted);
          expect(top.ranked()).toEqual(expected);
          expect(rounds).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it('asks the native scan for the nearest rows by inner product and by cosine of int8 codes', () => {
    const data = Float32Array.from([1, 0, 0, 0.6, 0.8, 0, 0, 0, 1, -1, 0, 0]);
    const nearest = nativeNearest(data, 4, 3, Float32Array.from([0.8, 0.6, 0]), 3, 'ip');
    expect(Array.from(nearest.rows)).toEqual([1, 0, 2]);
    expect(nearest.scores[0]).toBeCloseTo(0.96, 6);
    // Only the first `rows` rows count: row 3 would be the best match for this query.
    expect(Array.from(nativeNearest(data, 3, 3, Float32Array.from([-1, 0, 0]), 1, 'ip').rows)).toEqual([2]);
    const codes = Int8Array.from([10, 0, 0, 0, 127, 0]);
    const byCosine = nativeNearest(codes, 2, 3, Int8Array.from([1, 2, 0]), 2, 'cos');
    expect(Array.from(byCosine.rows)).toEqual([1, 0]);
    expect(byCosine.scores[0]).toBeCloseTo(2 / Math.sqrt(5), 3);
    expect(() => nativeNearest(data.subarray(3), 1, 3, Float32Array.from([1, 0, 0]), 1, 'ip')).toThrow(RangeError);
  });
});

describe('float16 and int8 codes', () => {
  it('bounds the error of a cosine of codes by the code direction errors', () => {
    const random = mulberry32(11);
    for (let trial = 0; trial < 200; trial++) {
      const dimension = 1 + Math.floor(random() * 40);
      const [x, q] = [gaussian(random, dimension), gaussian(random, dimension)].map(unitLength);
      const [cx, cq] = [new Int8Array(dimension), new Int8Array(dimension)];
      encodeInt8(x, cx, 0);
      encodeInt8(q, cq, 0);
      const codeCosine = dot(cx, cq) / Math.sqrt(dot(cx, cx) * dot(cq, cq));
      expect(Math.abs(dot(x, q) - codeCosine)).toBeLessThanOrEqual(codeDirectionError(x, cx, 0) + codeDirectionError(q, cq, 0) + 1e-9);
    }
    expect(codeDirectionError(new Float32Array(3), new Int8Array(3), 0)).toBe(0);
  });

  it('round-trips float16 within half a unit in the last place, exactly for representable values', () => {
    const table = float16Table();
    for (const value of [0, 1, -2, 0.5, 65504, 2 ** -24]) expect(table[toFloat16Bits(value)]).toBe(value);
    expect(table[toFloat16Bits(1e6)]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(table[toFloat16Bits(Number.NaN)])).toBe(true);
    fc.assert(
      fc.property(fc.float({ min: -1, max: 1, noNaN: true }), (value) => {
        const decoded = table[toFloat16Bits(value)];
        expect(Math.abs(decoded - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -11, 2 ** -25));
      }),
    );
  });

  it('encodes int8 with the largest magnitude at ±127', () => {
    const codes = new Int8Array(3);
    const scale = encodeInt8(Float32Array.from([0.5, -1, 0.25]), codes, 0);
    expect(Array.from(codes)).toEqual([64, -127, 32]);
    expect(scale).toBeCloseTo(1 / 127, 7);
    expect(encodeInt8(new Float32Array(3), codes, 0)).toBe(0);
    expect(Array.from(codes)).toEqual([0, 0, 0]);
  });
});

describe('VectorIndex storage and approximate search', () => {
  const vectors = clustered(1200, 7);
  const queries = clustered(1240, 7).slice(1200);
  const exact = filled(vectors, { approximateFrom: Number.POSITIVE_INFINITY });

  it('finds the exact top 10 with int8 codes (re-ranked from float32) and with float16 storage', () => {
    const int8 = filled(vectors, { storage: 'int8', approximateFrom: Number.POSITIVE_INFINITY });
    const float16 = filled(vectors, { storage: 'float16', approximateFrom: Number.POSITIVE_INFINITY });
    expect(recallAgainst(exact, int8, queries, 10)).toBeGreaterThanOrEqual(0.99);
    expect(recallAgainst(exact, float16, queries, 10)).toBeGreaterThanOrEqual(0.99);
    // int8 results are re-scored from the float32 copy, so their scores are the exact ones.
    const query = queries[0];
    expect(int8.search(query, 10)).toEqual(exact.search(query, 10));
    for (const hit of float16.search(query, 10)) expect(hit.score).toBeCloseTo(exact.score(hit.id, query)!, 3);
  });

  it('stays exact through many exact ties at the k-th place, in id order, with float32 and int8 storage', () => {
    // 150 copies of one vector: more than any first round of candidates, so the scans must widen.
    // Ids v0…v149 sort as strings (v0, v1, v10, v100, …), unlike the rows, which catches a tie
    // order taken from the native scan.
    const tied = [...Array.from({ length: 150 }, () => vectors[0]), ...vectors.slice(1, 300)];
    const query = vectors[0].map((value, i) => value + (i % 2 ? 0.05 : -0.05));
    const reference = filled(tied, { storage: 'float16', approximateFrom: Number.POSITIVE_INFINITY }).search(query, 40).map((hit) => hit.id);
    for (const storage of ['float32', 'int8'] as const) {
      const hits = filled(tied, { storage, approximateFrom: Number.POSITIVE_INFINITY }).search(query, 40);
      expect(hits.map((hit) => hit.id)).toEqual(reference);
      expect(new Set(hits.map((hit) => hit.score)).size).toBe(1);
    }
  });

  it('finds nearly all of the exact top 10 through the HNSW graph, with exact scores', () => {
    const hnsw = filled(vectors, { approximateFrom: 0, hnsw: SINGLE_THREADED });
    expect(hnsw.isApproximate).toBe(true);
    expect(recallAgainst(exact, hnsw, queries, 10)).toBeGreaterThanOrEqual(0.95);
    for (const hit of hnsw.search(queries[1], 10)) expect(hit.score).toBeCloseTo(exact.score(hit.id, queries[1])!, 6);
  });

  it('widens the graph walk on request: an expansion as large as the index finds the exact top 10', () => {
    const hnsw = filled(vectors, { approximateFrom: 0, hnsw: { ...SINGLE_THREADED, expansionSearch: 16 } });
    for (const query of queries.slice(0, 10)) expect(hnsw.search(query, 10, { expansion: vectors.length })).toEqual(exact.search(query, 10));
  });

  it('switches from exact scan to the graph at the threshold, and back once well below it', () => {
    const index = filled(vectors.slice(0, 99), { approximateFrom: 100 });
    expect(index.isApproximate).toBe(false);
    const before = index.search(queries[0], 5);
    index.upsert('v99', vectors[99]);
    expect(index.isApproximate).toBe(true);
    const reference = filled(vectors.slice(0, 100), { approximateFrom: Number.POSITIVE_INFINITY });
    // A 100-vector graph searched for 32 candidates finds the true top 5.
    expect(index.search(queries[0], 5)).toEqual(reference.search(queries[0], 5));
    expect(before.every((hit) => index.has(hit.id))).toBe(true);
    for (let i = 99; i >= 40; i--) index.remove(`v${i}`);
    expect(index.isApproximate).toBe(false);
    expect(index.search(queries[0], 5)).toEqual(filled(vectors.slice(0, 40), { approximateFrom: Number.POSITIVE_INFINITY }).search(queries[0], 5));
  });

  it('keeps the graph consistent with upserts and removals: removed ids never come back, moved vectors are found', () => {
    const index = filled(vectors, { approximateFrom: 0, hnsw: SINGLE_THREADED });
    index.search(queries[0], 1); // builds the graph
    const random = mulberry32(3);
    const expected = new Map(vectors.map((vector, i) => [`v${i}`, vector]));
    for (let i = 0; i < 600; i++) {
      const id = `v${Math.floor(random() * 1200)}`;
      if (random() < 0.5) {
        index.remove(id);
        expected.delete(id);
      } else {
        const vector = gaussian(random);
        index.upsert(id, vector);
        expected.set(id, vector);
      }
      if (i % 100 === 0) index.search(queries[i % queries.length], 10);
    }
    expect(index.size).toBe(expected.size);
    const reference = new VectorIndex(DIMENSION, { approximateFrom: Number.POSITIVE_INFINITY });
    for (const [id, vector] of expected) reference.upsert(id, vector);
    // A walk as wide as the index must reach every live vector (the graph's build is multi-threaded,
    // so a narrower walk may or may not: that is what the recall bound below is for).
    for (const [id, vector] of [...expected].slice(0, 50)) {
      const hits = index.search(vector, 10, { expansion: index.size });
      expect(hits[0]).toEqual({ id, score: expect.closeTo(1, 5) });
      for (const hit of hits) expect(expected.has(hit.id)).toBe(true);
    }
    expect(recallAgainst(reference, index, queries, 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('refuses NaN and wrong dimensions whatever the storage, and leaves the index unchanged', () => {
    for (const storage of ['float32', 'float16', 'int8'] as const) {
      const index = new VectorIndex(3, { storage, approximateFrom: 0 });
      expect(() => index.upsert('x', [1, Number.NaN, 0])).toThrow(/value 1 is NaN/);
      expect(() => index.upsert('x', [1, 2])).toThrow(/2 values, the index holds 3/);
      index.upsert('y', [1, 0, 0]);
      expect(() => index.search([1, 0, Number.POSITIVE_INFINITY], 1)).toThrow(RangeError);
      expect(() => index.search([1, 0], 1)).toThrow(RangeError);
      expect(index.size).toBe(1);
      expect(index.search([2, 0, 0], 3)).toEqual([{ id: 'y', score: expect.closeTo(1, 3) }]);
    }
  });
});
