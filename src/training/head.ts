/**
 * The regression head that maps identity-network features to 3DMM coefficients, as plain
 * weights: y = x · W1 + b1 for a linear head, or y = relu(x · W1 + b1) · W2 + b2 for a
 * one-hidden-layer MLP. Each layer is exactly an ONNX Gemm (transB = 0), so exporting is a copy.
 * Any input standardisation used in training is already folded into W1 and b1.
 */
import { assertLength, assertMatrix, columnMeans, multiplyAccumulate, zeros32, type FloatArray, type Matrix } from '../core/linear-algebra.js';

export interface DenseLayer {
  /** inputDim x outputDim, row-major. */
  readonly weights: Matrix<Float32Array>;
  /** outputDim. */
  readonly bias: Float32Array;
}

/** One layer, or two with a ReLU between them. */
export interface RegressionHead {
  readonly layers: readonly [DenseLayer] | readonly [DenseLayer, DenseLayer];
  /** Each input row is divided by its Euclidean norm first (embeddings whose length means nothing). */
  readonly unitInput?: boolean;
}

export function headInputDim(head: RegressionHead): number {
  return head.layers[0].weights.rows;
}

export function headOutputDim(head: RegressionHead): number {
  return head.layers[head.layers.length - 1].weights.cols;
}

/** Rows of `x` through the head; the TypeScript twin of the exported ONNX graph. */
export function applyHeadBatch(head: RegressionHead, x: Matrix): Matrix<Float32Array> {
  assertMatrix(x, 'applyHead input');
  let activations: Matrix = head.unitInput ? unitRows(x) : x;
  head.layers.forEach((layer, index) => {
    const out = applyLayer(layer, activations);
    if (index < head.layers.length - 1) relu(out.data);
    activations = out;
  });
  return activations as Matrix<Float32Array>;
}

export function applyHead(head: RegressionHead, x: FloatArray): Float32Array {
  return applyHeadBatch(head, { rows: 1, cols: x.length, data: x }).data;
}

/** Each row divided by its Euclidean norm (a zero row stays zero). */
export function unitRows(x: Matrix): Matrix<Float32Array> {
  const out = zeros32(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let squared = 0;
    for (let c = 0; c < x.cols; c++) squared += x.data[i * x.cols + c] ** 2;
    const scale = squared > 0 ? 1 / Math.sqrt(squared) : 0;
    for (let c = 0; c < x.cols; c++) out.data[i * x.cols + c] = x.data[i * x.cols + c] * scale;
  }
  return out;
}

/** x · W + b (no activation), one output row per input row. */
export function applyLayer(layer: DenseLayer, x: Matrix): Matrix<Float32Array> {
  const out = zeros32(x.rows, layer.weights.cols);
  for (let i = 0; i < x.rows; i++) out.data.set(layer.bias, i * out.cols);
  multiplyAccumulate(x, layer.weights, out);
  return out;
}

export function relu(values: FloatArray): void {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) values[i] = 0;
}

/** x̃ = (x − mean) · scale per column: training runs on x̃, the exported head takes raw x. */
export interface ColumnStandardisation {
  readonly mean: Float64Array;
  /** 1 / standard deviation (1 for a constant column). */
  readonly scale: Float64Array;
}

export function columnStandardisation(x: Matrix): ColumnStandardisation {
  const mean = columnMeans(x);
  const variance = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < x.cols; c++) variance[c] += (x.data[i * x.cols + c] - mean[c]) ** 2 / x.rows;
  }
  return { mean, scale: variance.map((v) => (v > 1e-24 ? 1 / Math.sqrt(v) : 1)) };
}

/** Rows `indices` of x, standardised, as a dense matrix (a training mini-batch). */
export function gatherStandardisedRows(x: Matrix, indices: ArrayLike<number>, standardisation: ColumnStandardisation, out?: Matrix<Float32Array>): Matrix<Float32Array> {
  const batch = out ?? zeros32(indices.length, x.cols);
  const { mean, scale } = standardisation;
  for (let r = 0; r < indices.length; r++) {
    const source = indices[r] * x.cols;
    for (let c = 0; c < x.cols; c++) batch.data[r * x.cols + c] = (x.data[source + c] - mean[c]) * scale[c];
  }
  return batch;
}

/** A layer trained on standardised inputs, rewritten to take raw inputs: W' = diag(scale) W, b' = b − (mean ⊙ scale) W. */
export function foldStandardisation(layer: DenseLayer, standardisation: ColumnStandardisation): DenseLayer {
  const { rows, cols, data } = layer.weights;
  assertLength(standardisation.mean, rows, 'standardisation');
  const weights = zeros32(rows, cols);
  const bias = Float64Array.from(layer.bias);
  for (let r = 0; r < rows; r++) {
    const scale = standardisation.scale[r];
    const shift = standardisation.mean[r] * scale;
    for (let c = 0; c < cols; c++) {
      weights.data[r * cols + c] = data[r * cols + c] * scale;
      bias[c] -= shift * data[r * cols + c];
    }
  }
  return { weights, bias: Float32Array.from(bias) };
}
