/**
 * Post-hoc shrinkage of a regression head's outputs, block by block (e.g. shape, texture). The
 * asymmetric loss deliberately over-estimates magnitudes (under-estimating costs 3x more), which keeps
 * faces away from the mean but inflates squared error; one factor per block, fitted by least squares
 * on people held out of training, restores the scale that best matches labels without changing the
 * direction of any block.
 */
import type { Matrix } from '../core/linear-algebra.js';
import type { RegressionHead } from './head.js';

export interface OutputBlock {
  readonly start: number;
  readonly end: number;
}

/** c = Σ (p − p̄)(l − l̄) / Σ (p − p̄)² over a block's outputs and rows, clamped to [0, 1]. */
export function blockShrinkage(predictions: Matrix, labels: Matrix, blocks: readonly OutputBlock[]): number[] {
  const k = predictions.cols;
  return blocks.map(({ start, end }) => {
    let cross = 0;
    let spread = 0;
    for (let j = start; j < end; j++) {
      let pm = 0, lm = 0;
      for (let r = 0; r < predictions.rows; r++) {
        pm += predictions.data[r * k + j] / predictions.rows;
        lm += labels.data[r * k + j] / labels.rows;
      }
      for (let r = 0; r < predictions.rows; r++) {
        const p = predictions.data[r * k + j] - pm;
        cross += p * (labels.data[r * k + j] - lm);
        spread += p * p;
      }
    }
    return spread > 0 ? Math.min(1, Math.max(0, cross / spread)) : 1;
  });
}

/** The head with each block's outputs scaled by its factor (folded into the last layer). */
export function shrinkHeadOutputs(head: RegressionHead, blocks: readonly OutputBlock[], factors: readonly number[]): RegressionHead {
  const last = head.layers[head.layers.length - 1];
  const weights = Float32Array.from(last.weights.data);
  const bias = Float32Array.from(last.bias);
  const cols = last.weights.cols;
  blocks.forEach(({ start, end }, b) => {
    for (let j = start; j < end; j++) {
      bias[j] *= factors[b];
      for (let r = 0; r < last.weights.rows; r++) weights[r * cols + j] *= factors[b];
    }
  });
  const scaled = { weights: { ...last.weights, data: weights }, bias };
  return { ...head, layers: head.layers.length === 2 ? [head.layers[0], scaled] : [scaled] };
}
