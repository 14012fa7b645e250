/**
 * Gradient training of the regression head on the asymmetric Euclidean loss: Adam with decoupled
 * weight decay (AdamW), mini-batches, optional one-hidden-layer ReLU MLP, optional early stopping
 * on a held-out split. Deterministic for a given seed: shuffles, the validation split and the
 * initial weights all come from one seeded generator, and the arithmetic order is fixed.
 */
import { batchAsymmetricLoss, PAPER_LOSS_WEIGHTS, type AsymmetricLossWeights } from './asymmetric-loss.js';
import {
  columnStandardisation,
  foldStandardisation,
  gatherStandardisedRows,
  relu,
  type ColumnStandardisation,
  type DenseLayer,
  type RegressionHead,
} from './head.js';
import {
  assertMatrix,
  columnMeans,
  multiplyTransposed,
  transpose,
  zeros32,
  type Matrix,
} from '../core/linear-algebra.js';
import { mulberry32, randomNormal, shuffledIndices, shuffleInPlace, type Random } from './random.js';

export interface GradientHeadOptions {
  readonly epochs: number;
  /** Hidden ReLU units; 0 (default) trains a linear head. */
  readonly hiddenUnits?: number;
  /** Default 128. */
  readonly batchSize?: number;
  /** Adam step size, default 1e-3. */
  readonly learningRate?: number;
  /** Decoupled L2 decay per step, w ← w − learningRate · weightDecay · w (weights only, not biases). Default 0. */
  readonly weightDecay?: number;
  /** Default: the paper's l1 = 1, l2 = 3. Use {1, 1} for the plain Euclidean loss. */
  readonly lossWeights?: AsymmetricLossWeights;
  /** Default 1. */
  readonly seed?: number;
  /** Share of rows held out (a seeded random subset) to measure validation loss; default 0. */
  readonly validationFraction?: number;
  /**
   * A group per row (e.g. the person): when given, the held-out share is drawn by whole groups, so
   * validation measures generalisation to unseen people rather than to unseen photos of known ones.
   */
  readonly rowGroups?: readonly string[];
  /** With validation: stop after this many epochs without a better validation loss. The best epoch's weights are returned. */
  readonly patience?: number;
  readonly onEpoch?: (record: EpochRecord) => void;
}

export interface EpochRecord {
  readonly epoch: number;
  /** Mean per-sample loss over the epoch's mini-batches. */
  readonly trainLoss: number;
  readonly validationLoss?: number;
}

export interface TrainedHead {
  readonly head: RegressionHead;
  readonly history: EpochRecord[];
  /** The epoch (1-based) whose weights `head` holds. */
  readonly bestEpoch: number;
  /** Rows held out for validation (never trained on), e.g. for post-hoc calibration. */
  readonly validationRows: Int32Array;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** Output weights start small so the first predictions sit near the label mean (the initial output bias). */
const OUTPUT_INIT_GAIN = 0.1;

export function trainGradientHead(x: Matrix, y: Matrix, options: GradientHeadOptions): TrainedHead {
  assertMatrix(x, 'head features');
  assertMatrix(y, 'head labels');
  if (x.rows !== y.rows) throw new RangeError(`head training: ${x.rows} feature rows vs ${y.rows} label rows`);
  const random = mulberry32(options.seed ?? 1);
  const { train, validation } = options.rowGroups ? splitGroups(options.rowGroups, options.validationFraction ?? 0, random) : splitRows(x.rows, options.validationFraction ?? 0, random);
  const standardisation = columnStandardisation(rowsOf(x, train));
  const network = createNetwork(x.cols, options.hiddenUnits ?? 0, y.cols, columnMeans(rowsOf(y, train)), random);
  const optimiser = new AdamW(network, options.learningRate ?? 1e-3, options.weightDecay ?? 0);
  const lossWeights = options.lossWeights ?? PAPER_LOSS_WEIGHTS;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 128, train.length));
  const history: EpochRecord[] = [];
  let best = { epoch: 0, loss: Infinity, layers: snapshot(network) };
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    shuffleInPlace(train, random);
    let lossSum = 0;
    for (let start = 0; start < train.length; start += batchSize) {
      const batch = train.subarray(start, Math.min(start + batchSize, train.length));
      const inputs = gatherStandardisedRows(x, batch, standardisation);
      lossSum += trainStep(network, inputs, rowsOf(y, batch), lossWeights) * batch.length;
      optimiser.step();
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: lossSum / train.length,
      ...(validation.length > 0 && { validationLoss: evaluate(network, x, y, validation, standardisation, lossWeights) }),
    };
    history.push(record);
    options.onEpoch?.(record);
    const score = record.validationLoss ?? record.trainLoss;
    if (validation.length === 0 || score < best.loss) best = { epoch, loss: score, layers: snapshot(network) };
    if (validation.length > 0 && options.patience !== undefined && epoch - best.epoch >= options.patience) break;
  }
  const first = foldStandardisation(best.layers[0], standardisation);
  const layers: RegressionHead['layers'] = best.layers.length === 2 ? [first, best.layers[1]] : [first];
  return { head: { layers }, history, bestEpoch: best.epoch, validationRows: validation };
}

function splitRows(count: number, fraction: number, random: Random): { train: Int32Array; validation: Int32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError('validationFraction must be in [0, 1)');
  const order = shuffledIndices(count, random);
  const validationCount = Math.round(count * fraction);
  if (count - validationCount < 1) throw new RangeError('head training needs at least one training row');
  return { train: order.slice(validationCount), validation: order.slice(0, validationCount) };
}

function splitGroups(groups: readonly string[], fraction: number, random: Random): { train: Int32Array; validation: Int32Array } {
  const names = [...new Set(groups)];
  const held = new Set(Array.from(splitRows(names.length, fraction, random).validation, (i) => names[i]));
  const rows = Array.from(groups.keys());
  return { train: Int32Array.from(rows.filter((r) => !held.has(groups[r]))), validation: Int32Array.from(rows.filter((r) => held.has(groups[r]))) };
}

function rowsOf(matrix: Matrix, indices: ArrayLike<number>): Matrix<Float32Array> {
  const out = zeros32(indices.length, matrix.cols);
  for (let r = 0; r < indices.length; r++) {
    out.data.set(matrix.data.subarray(indices[r] * matrix.cols, (indices[r] + 1) * matrix.cols), r * matrix.cols);
  }
  return out;
}

/**
 * A trainable layer, held transposed (outputDim x inputDim) so that the forward pass and both
 * gradients are a · bᵀ products, the fastest kernel; gradient and Adam moments share the shape.
 */
interface TrainableLayer {
  readonly transposedWeights: Matrix<Float32Array>;
  readonly bias: Float32Array;
  readonly weightGradient: Matrix<Float32Array>;
  readonly biasGradient: Float32Array;
}

function createNetwork(inputs: number, hidden: number, outputs: number, labelMean: Float64Array, random: Random): TrainableLayer[] {
  const shapes = hidden > 0 ? [[inputs, hidden, Math.sqrt(2 / inputs)], [hidden, outputs, OUTPUT_INIT_GAIN / Math.sqrt(hidden)]] : [[inputs, outputs, OUTPUT_INIT_GAIN / Math.sqrt(inputs)]];
  return shapes.map(([fanIn, fanOut, deviation], index) => {
    const transposedWeights = zeros32(fanOut, fanIn);
    for (let i = 0; i < transposedWeights.data.length; i++) transposedWeights.data[i] = deviation * randomNormal(random);
    const bias = index === shapes.length - 1 ? Float32Array.from(labelMean) : new Float32Array(fanOut);
    return { transposedWeights, bias, weightGradient: zeros32(fanOut, fanIn), biasGradient: new Float32Array(fanOut) };
  });
}

function snapshot(network: TrainableLayer[]): DenseLayer[] {
  return network.map((layer) => ({ weights: transpose(layer.transposedWeights), bias: layer.bias.slice() }));
}

/** Forward pass keeping every layer's input; the last entry is the prediction. */
function forward(network: TrainableLayer[], inputs: Matrix): Matrix<Float32Array>[] {
  const activations: Matrix<Float32Array>[] = [];
  let current = inputs;
  network.forEach((layer, index) => {
    const out = zeros32(current.rows, layer.bias.length);
    multiplyTransposed(current, layer.transposedWeights, out);
    for (let r = 0; r < out.rows; r++) for (let c = 0; c < out.cols; c++) out.data[r * out.cols + c] += layer.bias[c];
    if (index < network.length - 1) relu(out.data);
    activations.push(out);
    current = out;
  });
  return activations;
}

/** Fills the gradients of the batch-mean loss and returns that loss. */
function trainStep(network: TrainableLayer[], inputs: Matrix<Float32Array>, labels: Matrix, lossWeights: AsymmetricLossWeights): number {
  const outputs = forward(network, inputs);
  const prediction = outputs[network.length - 1];
  let delta = zeros32(prediction.rows, prediction.cols);
  const loss = batchAsymmetricLoss(labels, prediction, lossWeights, delta);
  for (let index = network.length - 1; index >= 0; index--) {
    const { transposedWeights, weightGradient, biasGradient } = network[index];
    const layerInput = index > 0 ? outputs[index - 1] : inputs;
    const deltaColumns = transpose(delta);
    multiplyTransposed(deltaColumns, transpose(layerInput), weightGradient);
    for (let c = 0; c < deltaColumns.rows; c++) biasGradient[c] = sum(deltaColumns.data, c * deltaColumns.cols, deltaColumns.cols);
    if (index > 0) {
      const upstream = zeros32(delta.rows, transposedWeights.cols);
      multiplyTransposed(delta, transpose(transposedWeights), upstream);
      // ReLU passes the gradient only where its output was positive.
      for (let i = 0; i < upstream.data.length; i++) if (layerInput.data[i] <= 0) upstream.data[i] = 0;
      delta = upstream;
    }
  }
  return loss;
}

function sum(values: Float32Array, offset: number, length: number): number {
  let total = 0;
  for (let i = offset; i < offset + length; i++) total += values[i];
  return total;
}

function evaluate(
  network: TrainableLayer[],
  x: Matrix,
  y: Matrix,
  rows: Int32Array,
  standardisation: ColumnStandardisation,
  lossWeights: AsymmetricLossWeights,
): number {
  const chunk = 1024;
  let sum = 0;
  for (let start = 0; start < rows.length; start += chunk) {
    const indices = rows.subarray(start, Math.min(start + chunk, rows.length));
    const prediction = forward(network, gatherStandardisedRows(x, indices, standardisation))[network.length - 1];
    sum += batchAsymmetricLoss(rowsOf(y, indices), prediction, lossWeights) * indices.length;
  }
  return sum / rows.length;
}

/** Adam (Kingma & Ba) with bias correction and decoupled weight decay (Loshchilov & Hutter). */
class AdamW {
  private readonly slots: Array<{ value: Float32Array; gradient: Float32Array; m: Float32Array; v: Float32Array; decay: boolean }>;
  private steps = 0;

  constructor(network: TrainableLayer[], private readonly learningRate: number, private readonly weightDecay: number) {
    this.slots = network.flatMap(({ transposedWeights, bias, weightGradient, biasGradient }) => [
      { value: transposedWeights.data, gradient: weightGradient.data, decay: true },
      { value: bias, gradient: biasGradient, decay: false },
    ].map((slot) => ({ ...slot, m: new Float32Array(slot.value.length), v: new Float32Array(slot.value.length) })));
  }

  step(): void {
    this.steps++;
    const stepSize = (this.learningRate * Math.sqrt(1 - ADAM_BETA2 ** this.steps)) / (1 - ADAM_BETA1 ** this.steps);
    for (const { value, gradient, m, v, decay } of this.slots) {
      const shrink = decay ? 1 - this.learningRate * this.weightDecay : 1;
      for (let i = 0; i < value.length; i++) {
        const g = gradient[i];
        m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * g;
        v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * g * g;
        value[i] = value[i] * shrink - (stepSize * m[i]) / (Math.sqrt(v[i]) + ADAM_EPSILON);
      }
    }
  }
}
