import { describe, expect, it } from '@jest/globals';
import { blockShrinkage, shrinkHeadOutputs } from '../../../src/training/shrinkage.js';
import { applyHead } from '../../../src/training/head.js';

describe('block shrinkage', () => {
  it('finds the factor that maps inflated predictions back onto the labels, per block', () => {
    const labels = { rows: 3, cols: 2, data: Float64Array.of(1, 5, -1, 0, 0, -5) };
    // Block 0 predicted at twice the labels' spread; block 1 exact.
    const predictions = { rows: 3, cols: 2, data: Float64Array.of(2, 5, -2, 0, 0, -5) };
    const factors = blockShrinkage(predictions, labels, [{ start: 0, end: 1 }, { start: 1, end: 2 }]);
    expect(factors[0]).toBeCloseTo(0.5, 10);
    expect(factors[1]).toBeCloseTo(1, 10);
  });

  it('never amplifies or flips a block', () => {
    const labels = { rows: 2, cols: 1, data: Float64Array.of(1, -1) };
    expect(blockShrinkage({ rows: 2, cols: 1, data: Float64Array.of(-1, 1) }, labels, [{ start: 0, end: 1 }])).toEqual([0]);
    expect(blockShrinkage({ rows: 2, cols: 1, data: Float64Array.of(0.1, -0.1) }, labels, [{ start: 0, end: 1 }])).toEqual([1]);
  });

  it('folds the factors into the last layer', () => {
    const head = { layers: [{ weights: { rows: 1, cols: 2, data: Float32Array.of(2, 3) }, bias: Float32Array.of(1, 1) }] } as const;
    const shrunk = shrinkHeadOutputs(head, [{ start: 0, end: 1 }, { start: 1, end: 2 }], [0.5, 1]);
    expect(Array.from(applyHead(shrunk, Float32Array.of(2)))).toEqual([2.5, 7]);
  });
});
