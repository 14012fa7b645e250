import { describe, expect, it } from '@jest/globals';

import {
  applyHead,
  applyHeadBatch,
  columnStandardisation,
  foldStandardisation,
  gatherStandardisedRows,
  headInputDim,
  headOutputDim,
  type DenseLayer,
  type RegressionHead,
} from '../../../src/training/head.js';

const f32 = (...values: number[]): Float32Array => Float32Array.from(values);

// W1 is 2 inputs x 2 hidden, W2 is 2 hidden x 1 output.
const hiddenLayer: DenseLayer = { weights: { rows: 2, cols: 2, data: f32(1, -1, 2, 1) }, bias: f32(0, 0.5) };
const outputLayer: DenseLayer = { weights: { rows: 2, cols: 1, data: f32(3, -2) }, bias: f32(1) };
const mlp: RegressionHead = { layers: [hiddenLayer, outputLayer] };

describe('regression head', () => {
  it('applies a linear layer as x · W + b', () => {
    const linear: RegressionHead = { layers: [hiddenLayer] };
    expect(Array.from(applyHead(linear, f32(1, 2)))).toEqual([5, 1.5]);
    expect([headInputDim(linear), headOutputDim(linear)]).toEqual([2, 2]);
  });

  it('applies ReLU between the two layers of an MLP', () => {
    // hidden = relu([1·1 + 2·2, −1 + 2 + 0.5]) = [5, 1.5]; out = 3·5 − 2·1.5 + 1 = 13
    expect(Array.from(applyHead(mlp, f32(1, 2)))).toEqual([13]);
    // hidden = relu([−2 + 1, 2 + 0.5 + 0.5]) = [0, 3]; out = −2·3 + 1 = −5
    expect(Array.from(applyHead(mlp, f32(-2, 0.5)))).toEqual([-5]);
    expect(headOutputDim(mlp)).toBe(1);
  });

  it('batch application equals row-by-row application', () => {
    const batch = applyHeadBatch(mlp, { rows: 2, cols: 2, data: f32(1, 2, -2, 0.5) });
    expect([batch.rows, batch.cols]).toEqual([2, 1]);
    expect(Array.from(batch.data)).toEqual([...applyHead(mlp, f32(1, 2)), ...applyHead(mlp, f32(-2, 0.5))]);
  });

  it('folding the standardisation into the first layer gives the same outputs on raw inputs', () => {
    const raw = { rows: 3, cols: 2, data: f32(1, 10, 3, 30, 5, 20) };
    const standardisation = columnStandardisation(raw);
    const standardised = gatherStandardisedRows(raw, [0, 1, 2], standardisation);
    Array.from({ length: 2 }, (_, c) => [0, 1, 2].map((r) => standardised.data[r * 2 + c])).forEach((column) => {
      expect(column.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 6);
      expect(column.reduce((s, v) => s + v * v, 0) / 3).toBeCloseTo(1, 5);
    });
    const folded: RegressionHead = { layers: [foldStandardisation(hiddenLayer, standardisation), outputLayer] };
    const expected = applyHeadBatch(mlp, standardised).data;
    Array.from(applyHeadBatch(folded, raw).data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });

  it('leaves a constant column unscaled', () => {
    const { scale } = columnStandardisation({ rows: 2, cols: 1, data: f32(4, 4) });
    expect(scale[0]).toBe(1);
  });
});
