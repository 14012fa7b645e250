import { describe, expect, it } from '@jest/globals';

import { applyHead, applyHeadBatch } from '../../../src/training/head.js';
import { type Matrix } from '../../../src/core/linear-algebra.js';
import { fitRidgeHead } from '../../../src/training/linear-head.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

/** y = x · W + b with features of very different scales and offsets. */
function linearProblem(n: number, noise: number): { x: Matrix<Float32Array>; y: Matrix<Float32Array>; weights: number[][]; bias: number[] } {
  const random = mulberry32(1);
  const d = 6;
  const k = 3;
  const weights = Array.from({ length: d }, () => Array.from({ length: k }, () => randomNormal(random)));
  const bias = [0.5, -1, 2];
  const x = { rows: n, cols: d, data: Float32Array.from({ length: n * d }, (_, i) => 3 + (1 + (i % d)) * randomNormal(random)) };
  const y = { rows: n, cols: k, data: new Float32Array(n * k) };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let value = bias[j] + noise * randomNormal(random);
      for (let p = 0; p < d; p++) value += x.data[i * d + p] * weights[p][j];
      y.data[i * k + j] = value;
    }
  }
  return { x, y, weights, bias };
}

describe('fitRidgeHead', () => {
  it('recovers a known linear map', () => {
    const { x, y, weights, bias } = linearProblem(200, 0);
    const head = fitRidgeHead(x, y, { lambda: 1e-6 });
    const layer = head.layers[0];
    expect([layer.weights.rows, layer.weights.cols]).toEqual([6, 3]);
    weights.forEach((row, p) => row.forEach((w, j) => expect(layer.weights.data[p * 3 + j]).toBeCloseTo(w, 3)));
    bias.forEach((b, j) => expect(layer.bias[j]).toBeCloseTo(b, 2));
    const predicted = applyHeadBatch(head, x).data;
    Array.from(y.data).forEach((v, i) => expect(predicted[i]).toBeCloseTo(v, 2));
  });

  it('shrinks weights as lambda grows, towards predicting the label mean', () => {
    const { x, y } = linearProblem(200, 0.1);
    const norm = (lambda: number): number => Math.hypot(...fitRidgeHead(x, y, { lambda }).layers[0].weights.data);
    expect(norm(1e4)).toBeLessThan(norm(10));
    expect(norm(10)).toBeLessThan(norm(0.01));
    const flat = fitRidgeHead(x, y, { lambda: 1e12 });
    const labelMean = [0, 1, 2].map((j) => y.data.filter((_, i) => i % 3 === j).reduce((s, v) => s + v, 0) / 200);
    Array.from(applyHead(flat, x.data.subarray(0, 6))).forEach((v, j) => expect(v).toBeCloseTo(labelMean[j], 3));
  });

  it('rejects mismatched rows and a non-positive lambda', () => {
    const { x, y } = linearProblem(20, 0);
    expect(() => fitRidgeHead(x, { ...y, rows: 19, data: y.data.subarray(3) }, { lambda: 1 })).toThrow(RangeError);
    expect(() => fitRidgeHead(x, y, { lambda: 0 })).toThrow(RangeError);
  });
});
