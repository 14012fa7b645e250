import { describe, expect, it } from '@jest/globals';

import { fitPca, project, projectRegularised, reconstruct, type Pca } from '../../../src/morphable/pca.js';
import { dot, type Matrix } from '../../../src/core/linear-algebra.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

const DIMS = 40;
const SIGMAS = [5, 3, 1];

/** Orthonormal directions in R^DIMS by Gram-Schmidt on seeded random vectors. */
function orthonormalDirections(count: number, seed: number): Float64Array[] {
  const random = mulberry32(seed);
  const directions: Float64Array[] = [];
  while (directions.length < count) {
    const v = Float64Array.from({ length: DIMS }, () => randomNormal(random));
    for (const u of directions) {
      const projection = dot(u, 0, v, 0, DIMS);
      for (let c = 0; c < DIMS; c++) v[c] -= projection * u[c];
    }
    const norm = Math.sqrt(dot(v, 0, v, 0, DIMS));
    directions.push(v.map((x) => x / norm));
  }
  return directions;
}

/**
 * Samples mean + Σ_j SIGMAS[j] h_j(i) q_j where h_j are columns 1..3 of an 8 x 8 Sylvester Hadamard
 * matrix (±1, zero mean, mutually orthogonal), repeated: the sample covariance is exactly
 * diag(SIGMAS²) · n/(n − 1) in the q basis, so the principal axes are exactly the q_j.
 */
function lowRankSamples(repeats: number): { samples: Matrix<Float64Array>; mean: Float64Array; directions: Float64Array[]; coefficients: number[][] } {
  const hadamard = (i: number, j: number): number => ((popCount(i & j) % 2) === 0 ? 1 : -1);
  const directions = orthonormalDirections(SIGMAS.length, 11);
  const mean = Float64Array.from({ length: DIMS }, (_, c) => 10 + c);
  const n = 8 * repeats;
  const data = new Float64Array(n * DIMS);
  const coefficients: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = SIGMAS.map((s, j) => s * hadamard(i % 8, j + 1));
    coefficients.push(row);
    for (let c = 0; c < DIMS; c++) data[i * DIMS + c] = mean[c] + row.reduce((sum, a, j) => sum + a * directions[j][c], 0);
  }
  return { samples: { rows: n, cols: DIMS, data }, mean, directions, coefficients };
}

function popCount(x: number): number {
  let count = 0;
  for (let v = x; v; v >>= 1) count += v & 1;
  return count;
}

function basisRow(pca: Pca, j: number): Float64Array {
  return pca.basis.data.subarray(j * pca.basis.cols, (j + 1) * pca.basis.cols);
}

function randomSamples(rows: number, cols: number, seed: number): Matrix<Float64Array> {
  const random = mulberry32(seed);
  // Column-dependent scales keep the eigenvalues well separated, so eigenvectors are well defined.
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, (_, i) => randomNormal(random) * (1 + (i % cols) * 0.3)) };
}

describe('fitPca', () => {
  const { samples, mean, directions, coefficients } = lowRankSamples(3);
  const n = samples.rows;
  const unbiased = Math.sqrt(n / (n - 1));

  it.each(['gram', 'covariance'] as const)('recovers a known rank-3 model (%s method)', (method) => {
    const pca = fitPca(samples, { maxComponents: 10, method });
    expect(pca.basis.rows).toBe(3);
    Array.from(pca.mean).forEach((m, c) => expect(m).toBeCloseTo(mean[c], 9));
    SIGMAS.forEach((s, j) => {
      expect(pca.sigma[j]).toBeCloseTo(s * unbiased, 9);
      expect(Math.abs(dot(basisRow(pca, j), 0, directions[j], 0, DIMS))).toBeCloseTo(1, 9);
    });
    const total = SIGMAS.reduce((sum, s) => sum + s * s, 0);
    SIGMAS.forEach((s, j) => expect(pca.explainedVarianceRatio[j]).toBeCloseTo((s * s) / total, 9));
  });

  it('has orthonormal basis rows', () => {
    const pca = fitPca(randomSamples(30, 50, 1), { maxComponents: 20 });
    for (let j = 0; j < pca.basis.rows; j++) {
      for (let l = 0; l < pca.basis.rows; l++) expect(dot(basisRow(pca, j), 0, basisRow(pca, l), 0, 50)).toBeCloseTo(j === l ? 1 : 0, 9);
    }
  });

  it.each([
    [30, 50],
    [50, 20],
  ])('gives the same model through the Gram matrix and the covariance (%i samples x %i dims)', (rows, cols) => {
    const data = randomSamples(rows, cols, 2);
    const weights = Float64Array.from({ length: rows }, (_, i) => 1 + (i % 4));
    const gram = fitPca(data, { maxComponents: 12, method: 'gram', weights });
    const direct = fitPca(data, { maxComponents: 12, method: 'covariance', weights });
    expect(gram.basis.rows).toBe(12);
    for (const key of ['mean', 'sigma', 'explainedVarianceRatio'] as const) {
      Array.from(gram[key]).forEach((v, i) => expect(v).toBeCloseTo(direct[key][i], 8));
    }
    Array.from(gram.basis.data).forEach((v, i) => expect(v).toBeCloseTo(direct.basis.data[i], 7));
  });

  it('drops a sample whose weight is zero', () => {
    const data = randomSamples(12, 8, 3);
    const weights = Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? 0 : 1));
    const kept = { rows: 11, cols: 8, data: data.data.filter((_, i) => Math.floor(i / 8) !== 5) };
    const weighted = fitPca(data, { maxComponents: 5, weights });
    const dropped = fitPca(kept, { maxComponents: 5 });
    Array.from(weighted.sigma).forEach((s, j) => expect(s).toBeCloseTo(dropped.sigma[j], 9));
  });

  it('projects in sigma units and reconstructs exactly within the span', () => {
    const pca = fitPca(samples, { maxComponents: 3 });
    const x = samples.data.subarray(0, DIMS);
    const alpha = project(pca, x);
    // Basis signs are fixed by convention, so compare magnitudes against the generating coefficients.
    alpha.forEach((a, j) => expect(Math.abs(a)).toBeCloseTo(Math.abs(coefficients[0][j]) / pca.sigma[j], 9));
    Array.from(reconstruct(pca, alpha)).forEach((v, c) => expect(v).toBeCloseTo(x[c], 9));
    Array.from(reconstruct(pca, [])).forEach((v, c) => expect(v).toBeCloseTo(mean[c], 9));
  });

  it('rejects fewer than two samples and data without variance', () => {
    expect(() => fitPca({ rows: 1, cols: 3, data: new Float64Array(3) }, { maxComponents: 1 })).toThrow(RangeError);
    expect(() => fitPca({ rows: 3, cols: 2, data: new Float64Array(6).fill(4) }, { maxComponents: 1 })).toThrow(RangeError);
  });
});

describe('projectRegularised', () => {
  const { samples } = lowRankSamples(2);
  const pca = fitPca(samples, { maxComponents: 3 });
  const x = Float64Array.from(reconstruct(pca, [0.7, -1.2, 0.4]));

  it('without a mask shrinks each coefficient by sigma² / (sigma² + lambda)', () => {
    const lambda = 4;
    const alpha = projectRegularised(pca, x, lambda);
    const exact = project(pca, x);
    alpha.forEach((a, j) => expect(a).toBeCloseTo((exact[j] * pca.sigma[j] ** 2) / (pca.sigma[j] ** 2 + lambda), 9));
    Array.from(projectRegularised(pca, x, 0)).forEach((a, j) => expect(a).toBeCloseTo(exact[j], 9));
  });

  it('recovers the coefficients from the visible half of the dimensions', () => {
    const visible = Float64Array.from({ length: DIMS }, (_, c) => (c < DIMS / 2 ? 1 : 0));
    const corrupted = x.map((v, c) => (visible[c] ? v : v + 1000));
    const alpha = projectRegularised(pca, corrupted, 1e-9, visible);
    [0.7, -1.2, 0.4].forEach((a, j) => expect(alpha[j]).toBeCloseTo(a, 5));
    // Ignoring the mask, the corruption wrecks the estimate.
    expect(Math.abs(project(pca, corrupted)[0] - 0.7)).toBeGreaterThan(1);
  });

  it('pulls coefficients towards zero as lambda grows', () => {
    const visible = Float64Array.from({ length: DIMS }, (_, c) => (c % 3 === 0 ? 1 : 0));
    const norm = (lambda: number): number => Math.hypot(...projectRegularised(pca, x, lambda, visible));
    expect(norm(100)).toBeLessThan(norm(1));
    expect(norm(1)).toBeLessThan(norm(0.01));
  });
});
