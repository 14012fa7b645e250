/**
 * Principal component analysis for building a morphable model: S = mean + Σ_j basis_j · sigma_j · alpha_j,
 * with alpha in standard-deviation units (so a prior alpha ~ N(0, I) is natural).
 *
 * The covariance is never formed when there are fewer samples than dimensions (texture: 1,500
 * people x 49,152 texels): the eigenvectors of the n x n Gram matrix of centred samples map to
 * those of the covariance ("Gram trick"), so the cost is O(n²d + n³) instead of O(d³).
 */
import {
  assertLength,
  assertMatrix,
  centredRowGram,
  centredScatter,
  columnMeans,
  dot,
  fillCentredColumnBlock,
  multiplyAccumulate,
  solveSymmetricPositiveDefinite,
  symmetricEigen,
  zeros64,
  type CentredRows,
  type FloatArray,
  type Matrix,
  type SymmetricEigen,
} from '../core/linear-algebra.js';

export interface Pca {
  /** Mean sample, length d. */
  readonly mean: Float64Array;
  /** k x d, orthonormal rows, largest variance first; each row's largest-magnitude entry is positive. */
  readonly basis: Matrix<Float64Array>;
  /** Standard deviation along each basis row, length k. */
  readonly sigma: Float64Array;
  /** Share of the total variance along each basis row, length k. */
  readonly explainedVarianceRatio: Float64Array;
}

export interface PcaOptions {
  /** Upper bound on k; fewer are kept when the data has lower rank. */
  readonly maxComponents: number;
  /**
   * Non-negative reliability weights per sample (e.g. photo counts or confidences). The mean is
   * weighted; the covariance is Σ w_i (x_i − m)(x_i − m)ᵀ / (V1 − V2 / V1) with V1 = Σ w, V2 = Σ w²,
   * which is the usual unbiased (n − 1) estimate when all weights are equal.
   */
  readonly weights?: ArrayLike<number>;
  /** 'auto' (default) uses the Gram matrix when samples < dims, the covariance otherwise. */
  readonly method?: 'auto' | 'gram' | 'covariance';
}

/** Eigenvalues below this fraction of the largest are numerical noise (rank deficiency), not components. */
const RELATIVE_EIGENVALUE_FLOOR = 1e-10;
const BASIS_COLUMN_BLOCK = 1024;

export function fitPca(samples: Matrix, options: PcaOptions): Pca {
  assertMatrix(samples, 'fitPca samples');
  if (samples.rows < 2) throw new RangeError('fitPca needs at least 2 samples');
  if (!(options.maxComponents >= 1)) throw new RangeError('fitPca: maxComponents must be at least 1');
  const weights = options.weights ?? new Float64Array(samples.rows).fill(1);
  assertLength(weights, samples.rows, 'fitPca weights');
  const centred: CentredRows = { matrix: samples, mean: columnMeans(samples, weights), rowScale: covarianceRowScale(weights) };
  const useGram = options.method === 'gram' || ((options.method ?? 'auto') === 'auto' && samples.rows < samples.cols);
  const operand = useGram ? centredRowGram(centred) : centredScatter(centred);
  const size = useGram ? samples.rows : samples.cols;
  const eigen = symmetricEigen(operand, size);
  const totalVariance = trace(operand, size);
  const count = componentCount(eigen.values, options.maxComponents);
  const basis = useGram ? basisFromGram(centred, eigen, count) : topRows(eigen.vectors, count);
  orientRows(basis);
  const variances = eigen.values.subarray(0, count);
  return {
    mean: centred.mean,
    basis,
    sigma: variances.map(Math.sqrt),
    explainedVarianceRatio: variances.map((v) => v / totalVariance),
  };
}

function covarianceRowScale(weights: ArrayLike<number>): Float64Array {
  let v1 = 0;
  let v2 = 0;
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i] >= 0)) throw new RangeError(`fitPca: weight ${i} must be non-negative`);
    v1 += weights[i];
    v2 += weights[i] * weights[i];
  }
  const denominator = v1 - v2 / Math.max(v1, Number.MIN_VALUE);
  if (!(denominator > 0)) throw new RangeError('fitPca needs at least 2 samples with positive weight');
  return Float64Array.from(weights, (w) => Math.sqrt(w / denominator));
}

function trace(square: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += square[i * n + i];
  return sum;
}

function componentCount(values: Float64Array, maxComponents: number): number {
  const floor = values[0] * RELATIVE_EIGENVALUE_FLOOR;
  let count = 0;
  while (count < Math.min(maxComponents, values.length) && values[count] > floor) count++;
  if (count === 0) throw new RangeError('fitPca: the samples have no variance');
  return count;
}

function topRows(vectors: Matrix<Float64Array>, count: number): Matrix<Float64Array> {
  return { rows: count, cols: vectors.cols, data: vectors.data.slice(0, count * vectors.cols) };
}

/** u_j = Cᵀ v_j / √λ_j for the centred sample matrix C, computed one block of columns at a time. */
function basisFromGram(centred: CentredRows, eigen: SymmetricEigen, count: number): Matrix<Float64Array> {
  const { rows: n, cols: d } = centred.matrix;
  const leading = topRows(eigen.vectors, count);
  const basis = zeros64(count, d);
  const block = new Float64Array(n * BASIS_COLUMN_BLOCK);
  for (let start = 0; start < d; start += BASIS_COLUMN_BLOCK) {
    const width = Math.min(BASIS_COLUMN_BLOCK, d - start);
    fillCentredColumnBlock(centred, start, width, block);
    const product = zeros64(count, width);
    multiplyAccumulate(leading, { rows: n, cols: width, data: block.subarray(0, n * width) }, product);
    for (let j = 0; j < count; j++) {
      const scale = 1 / Math.sqrt(eigen.values[j]);
      for (let c = 0; c < width; c++) basis.data[j * d + start + c] = product.data[j * width + c] * scale;
    }
  }
  return basis;
}

/** Eigenvectors have arbitrary sign; fixing it makes models reproducible and comparable. */
function orientRows(basis: Matrix<Float64Array>): void {
  for (let j = 0; j < basis.rows; j++) {
    const row = basis.data.subarray(j * basis.cols, (j + 1) * basis.cols);
    let largest = 0;
    for (const value of row) if (Math.abs(value) > Math.abs(largest)) largest = value;
    if (largest < 0) for (let c = 0; c < row.length; c++) row[c] = -row[c];
  }
}

/** The parts of a linear model that coefficients need (a Pca, or a bundle's float32 model). */
export interface LinearBasis {
  readonly mean: FloatArray;
  readonly basis: Matrix;
  readonly sigma: FloatArray;
}

/** Coefficients of x in sigma units: alpha_j = basis_j · (x − mean) / sigma_j. */
export function project(pca: LinearBasis, x: FloatArray): Float64Array {
  const residual = residualFromMean(pca, x);
  const { basis, sigma } = pca;
  return Float64Array.from(sigma, (s, j) => dot(basis.data, j * basis.cols, residual, 0, basis.cols) / s);
}

/** mean + Σ_j basis_j · sigma_j · coeffs_j. Fewer coefficients than components use the leading ones. */
export function reconstruct(pca: Pca, coefficients: ArrayLike<number>): Float64Array {
  const { basis, sigma } = pca;
  if (coefficients.length > basis.rows) throw new RangeError(`reconstruct: ${coefficients.length} coefficients for ${basis.rows} components`);
  const out = Float64Array.from(pca.mean);
  const d = basis.cols;
  for (let j = 0; j < coefficients.length; j++) {
    const scale = coefficients[j] * sigma[j];
    if (scale !== 0) for (let c = 0; c < d; c++) out[c] += scale * basis.data[j * d + c];
  }
  return out;
}

/**
 * Ridge-regularised fit of the model to a partial or noisy observation:
 * argmin_alpha Σ_c w_c (x_c − reconstruct(alpha)_c)² + lambda ||alpha||².
 * This is the MAP estimate under the prior alpha ~ N(0, I) with observation noise variance lambda
 * (in the data's squared units), so lambda trades fidelity against plausibility. `dimensionWeights`
 * (length d, e.g. 0/1 visibility per coordinate or texel channel) restricts the fit to what was seen;
 * without it the solution is the closed-form shrinkage sigma_j² / (sigma_j² + lambda) of `project`.
 * Cost with weights: O(k² d).
 */
export function projectRegularised(pca: Pca, x: FloatArray, lambda: number, dimensionWeights?: ArrayLike<number>): Float64Array {
  if (!(lambda >= 0)) throw new RangeError('projectRegularised: lambda must be non-negative');
  const residual = residualFromMean(pca, x);
  const { basis, sigma } = pca;
  const k = basis.rows;
  const d = basis.cols;
  if (!dimensionWeights) {
    return sigma.map((s, j) => (s * dot(basis.data, j * d, residual, 0, d)) / (s * s + lambda));
  }
  assertLength(dimensionWeights, d, 'projectRegularised dimensionWeights');
  const weightedBasis = zeros64(k, d);
  for (let j = 0; j < k; j++) {
    for (let c = 0; c < d; c++) weightedBasis.data[j * d + c] = dimensionWeights[c] * basis.data[j * d + c];
  }
  // Normal equations in alpha: (Σ Uᵀ W U Σ + lambda I) alpha = Σ Uᵀ W r, with Σ = diag(sigma).
  const normal = new Float64Array(k * k);
  const rhs = zeros64(k, 1);
  for (let j = 0; j < k; j++) {
    for (let l = 0; l <= j; l++) {
      const value = sigma[j] * sigma[l] * dot(weightedBasis.data, j * d, basis.data, l * d, d);
      normal[j * k + l] = value;
      normal[l * k + j] = value;
    }
    normal[j * k + j] += lambda;
    rhs.data[j] = sigma[j] * dot(weightedBasis.data, j * d, residual, 0, d);
  }
  return solveSymmetricPositiveDefinite(normal, rhs).data;
}

function residualFromMean(pca: LinearBasis, x: FloatArray): Float64Array {
  assertLength(x, pca.mean.length, 'PCA sample');
  return Float64Array.from(pca.mean, (m, c) => x[c] - m);
}
