/**
 * The asymmetric Euclidean loss of Tran et al. (CVPR 2017, eq. 3). With label g and prediction p:
 *   g⁺ = |g|, p⁺ = sign(g) · p, m = max(g⁺, p⁺) elementwise,
 *   L = l1 · ||g⁺ − m||² + l2 · ||p⁺ − m||².
 * Per coordinate only one term is non-zero: a prediction larger in magnitude than the label (in
 * the label's direction) costs l1 · (p⁺ − g⁺)², a smaller one l2 · (p⁺ − g⁺)². With l1 < l2,
 * over-estimating costs less than under-estimating, which pushes the regressor away from the
 * mean face towards more distinctive (more discriminative) shapes. l1 = l2 = 1 is the plain
 * squared Euclidean loss.
 *
 * sign(0) is taken as +1, so a zero label behaves like the limit of a tiny positive one.
 */
import { assertLength, type FloatArray, type Matrix } from '../core/linear-algebra.js';

export interface AsymmetricLossWeights {
  /** l1: weight on predictions that over-shoot the label's magnitude. */
  readonly overEstimate: number;
  /** l2: weight on predictions that fall short of it. */
  readonly underEstimate: number;
}

/** The paper's choice: l1 = 1, l2 = 3. */
export const PAPER_LOSS_WEIGHTS: AsymmetricLossWeights = { overEstimate: 1, underEstimate: 3 };

/**
 * Loss over `length` coordinates starting at the given offsets; when `gradient` is given, writes
 * gradientScale · ∂L/∂p there (same offset as the prediction).
 */
function rowLoss(
  label: FloatArray,
  labelOffset: number,
  prediction: FloatArray,
  predictionOffset: number,
  length: number,
  weights: AsymmetricLossWeights,
  gradient: FloatArray | null,
  gradientScale: number,
): number {
  let loss = 0;
  for (let c = 0; c < length; c++) {
    const g = label[labelOffset + c];
    const p = prediction[predictionOffset + c];
    const sign = g < 0 ? -1 : 1;
    const excess = sign * p - Math.abs(g); // p⁺ − g⁺
    const weight = excess > 0 ? weights.overEstimate : weights.underEstimate;
    loss += weight * excess * excess;
    if (gradient) gradient[predictionOffset + c] = gradientScale * 2 * weight * excess * sign;
  }
  return loss;
}

export function asymmetricLoss(label: FloatArray, prediction: FloatArray, weights: AsymmetricLossWeights = PAPER_LOSS_WEIGHTS): number {
  assertLength(prediction, label.length, 'asymmetricLoss prediction');
  return rowLoss(label, 0, prediction, 0, label.length, weights, null, 1);
}

/** The loss and ∂L/∂prediction. */
export function asymmetricLossWithGradient(
  label: FloatArray,
  prediction: FloatArray,
  weights: AsymmetricLossWeights = PAPER_LOSS_WEIGHTS,
): { loss: number; gradient: Float64Array } {
  assertLength(prediction, label.length, 'asymmetricLoss prediction');
  const gradient = new Float64Array(label.length);
  const loss = rowLoss(label, 0, prediction, 0, label.length, weights, gradient, 1);
  return { loss, gradient };
}

/**
 * Mean over rows of the per-row loss (each row summed over its coordinates). When `gradient` (same
 * shape as the predictions) is given, it receives the gradient of that mean.
 */
export function batchAsymmetricLoss(
  labels: Matrix,
  predictions: Matrix,
  weights: AsymmetricLossWeights = PAPER_LOSS_WEIGHTS,
  gradient?: Matrix,
): number {
  if (labels.rows !== predictions.rows || labels.cols !== predictions.cols) {
    throw new RangeError(`batchAsymmetricLoss: labels ${labels.rows}x${labels.cols} vs predictions ${predictions.rows}x${predictions.cols}`);
  }
  if (gradient && (gradient.rows !== predictions.rows || gradient.cols !== predictions.cols)) {
    throw new RangeError('batchAsymmetricLoss: gradient shape differs from predictions');
  }
  const { rows, cols } = labels;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    total += rowLoss(labels.data, i * cols, predictions.data, i * cols, cols, weights, gradient?.data ?? null, 1 / rows);
  }
  return total / rows;
}
