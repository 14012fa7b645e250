import { describe, expect, it } from '@jest/globals';

import {
  centredRowGram,
  centredScatter,
  columnMeans,
  multiplyAccumulate,
  multiplyTransposed,
  solveSymmetricPositiveDefinite,
  symmetricEigen,
  transpose,
  zeros64,
  type Matrix,
} from '../../../src/core/linear-algebra.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix<Float64Array> {
  const random = mulberry32(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => randomNormal(random)) };
}

const at = (m: Matrix, r: number, c: number): number => m.data[r * m.cols + c];

function naiveProduct(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.cols; j++) for (let p = 0; p < a.cols; p++) out[i * b.cols + j] += at(a, i, p) * at(b, p, j);
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 10): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

describe('matrix products', () => {
  // Odd sizes exercise the unrolled kernels' tails.
  const a = randomMatrix(5, 13, 1);
  const b = randomMatrix(13, 7, 2);

  it('multiplyAccumulate adds a · b to the output', () => {
    const out = zeros64(5, 7);
    out.data.fill(1);
    multiplyAccumulate(a, b, out);
    expectClose(out.data, naiveProduct(a, b).map((v) => v + 1));
  });

  it('multiplyTransposed computes a · bᵀ, overwriting the output', () => {
    const out = zeros64(5, 7);
    out.data.fill(42);
    multiplyTransposed(a, transpose(b), out);
    expectClose(out.data, naiveProduct(a, b));
  });

  it('skips zero coefficients without changing the result', () => {
    const sparse = { ...a, data: a.data.map((v, i) => (i % 3 === 0 ? 0 : v)) };
    const out = zeros64(5, 7);
    multiplyAccumulate(sparse, b, out);
    expectClose(out.data, naiveProduct(sparse, b));
  });

  it('rejects mismatched shapes', () => {
    expect(() => multiplyAccumulate(a, a, zeros64(5, 13))).toThrow(RangeError);
  });

  it('transpose swaps rows and columns and keeps the array type', () => {
    const m = { rows: 2, cols: 3, data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    const t = transpose(m);
    expect([t.rows, t.cols]).toEqual([3, 2]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('centred products', () => {
  const x = randomMatrix(300, 9, 3); // more rows than one block, to cross block boundaries
  const y = randomMatrix(300, 4, 4);
  const weights = Float64Array.from({ length: 300 }, (_, i) => 0.5 + (i % 5) / 4);

  function naiveScatter(a: Matrix, aMean: Float64Array, b: Matrix, bMean: Float64Array, scale: (i: number) => number): Float64Array {
    const out = new Float64Array(a.cols * b.cols);
    for (let i = 0; i < a.rows; i++) {
      for (let p = 0; p < a.cols; p++) {
        for (let q = 0; q < b.cols; q++) out[p * b.cols + q] += scale(i) ** 2 * (at(a, i, p) - aMean[p]) * (at(b, i, q) - bMean[q]);
      }
    }
    return out;
  }

  it('columnMeans honours row weights', () => {
    const m = { rows: 2, cols: 2, data: Float64Array.of(0, 10, 4, 20) };
    expectClose(columnMeans(m, [1, 3]), [3, 17.5]);
  });

  it('centredScatter matches the definition, symmetric and cross forms', () => {
    const xMean = columnMeans(x);
    const yMean = columnMeans(y);
    const rowScale = weights.map(Math.sqrt);
    expectClose(centredScatter({ matrix: x, mean: xMean, rowScale }), naiveScatter(x, xMean, x, xMean, (i) => rowScale[i]), 8);
    expectClose(centredScatter({ matrix: x, mean: xMean }, { matrix: y, mean: yMean }), naiveScatter(x, xMean, y, yMean, () => 1), 8);
  });

  it('centredRowGram is the Gram matrix of centred, scaled rows', () => {
    const wide = randomMatrix(7, 600, 5); // more columns than one block
    const mean = columnMeans(wide);
    const rowScale = Float64Array.from({ length: 7 }, (_, i) => 1 + i / 10);
    const gram = centredRowGram({ matrix: wide, mean, rowScale });
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) {
        let expected = 0;
        for (let c = 0; c < 600; c++) expected += rowScale[i] * rowScale[j] * (at(wide, i, c) - mean[c]) * (at(wide, j, c) - mean[c]);
        expect(gram[i * 7 + j]).toBeCloseTo(expected, 8);
      }
    }
  });
});

describe('dense solvers', () => {
  it('symmetricEigen returns eigenpairs largest first', () => {
    // [[2, 1], [1, 2]] has eigenvalues 3 (along [1, 1]) and 1 (along [1, -1]).
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expectClose(values, [3, 1]);
    expect(Math.abs(vectors.data[0])).toBeCloseTo(Math.SQRT1_2, 10);
    expect(vectors.data[0] * vectors.data[1]).toBeGreaterThan(0);
    expect(vectors.data[2] * vectors.data[3]).toBeLessThan(0);
  });

  it('solveSymmetricPositiveDefinite solves A X = B', () => {
    const a = Float64Array.of(4, 1, 1, 3);
    const solution = solveSymmetricPositiveDefinite(a, { rows: 2, cols: 2, data: Float64Array.of(1, 0, 2, 1) });
    // A⁻¹ = [[3, -1], [-1, 4]] / 11
    expectClose(solution.data, [1 / 11, -1 / 11, 7 / 11, 4 / 11]);
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => solveSymmetricPositiveDefinite(Float64Array.of(1, 2, 2, 1), { rows: 2, cols: 1, data: Float64Array.of(1, 1) })).toThrow(RangeError);
  });
});
