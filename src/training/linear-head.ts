/**
 * Closed-form ridge regression head: the baseline for, and a fast stand-in for, the gradient-trained
 * head. Features are standardised (zero mean, unit variance per column) before the penalty is
 * applied, so lambda means the same whatever the feature scale; the bias is not penalised.
 */
import { columnStandardisation, foldStandardisation, type RegressionHead } from './head.js';
import { assertMatrix, centredScatter, columnMeans, solveSymmetricPositiveDefinite, zeros32, type Matrix } from '../core/linear-algebra.js';

export interface RidgeOptions {
  /** Penalty on the squared weights, sum-of-squares scale: argmin ||Ỹ − X̃W||² + lambda ||W||². */
  readonly lambda: number;
}

/** X (n x d) features, Y (n x k) labels -> linear head; O(n d² + d³ + n d k). */
export function fitRidgeHead(x: Matrix, y: Matrix, options: RidgeOptions): RegressionHead {
  assertMatrix(x, 'ridge features');
  assertMatrix(y, 'ridge labels');
  if (x.rows !== y.rows) throw new RangeError(`ridge: ${x.rows} feature rows vs ${y.rows} label rows`);
  if (!(options.lambda > 0)) throw new RangeError('ridge: lambda must be positive');
  const standardisation = columnStandardisation(x);
  const labelMean = columnMeans(y);
  const features = { matrix: x, mean: standardisation.mean };
  const gram = centredScatter(features);
  const cross = centredScatter(features, { matrix: y, mean: labelMean });
  const d = x.cols;
  const k = y.cols;
  const { scale } = standardisation;
  for (let r = 0; r < d; r++) {
    for (let c = 0; c < d; c++) gram[r * d + c] *= scale[r] * scale[c];
    gram[r * d + r] += options.lambda;
    for (let c = 0; c < k; c++) cross[r * k + c] *= scale[r];
  }
  const solution = solveSymmetricPositiveDefinite(gram, { rows: d, cols: k, data: cross });
  const weights = zeros32(d, k);
  weights.data.set(solution.data);
  return { layers: [foldStandardisation({ weights, bias: Float32Array.from(labelMean) }, standardisation)] };
}
