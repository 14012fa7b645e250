import { describe, expect, it } from '@jest/globals';

import { asymmetricLoss } from '../../../src/training/asymmetric-loss.js';
import { trainGradientHead, type GradientHeadOptions } from '../../../src/training/gradient-head.js';
import { applyHead, applyHeadBatch, type RegressionHead } from '../../../src/training/head.js';
import { type Matrix } from '../../../src/core/linear-algebra.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

const EUCLIDEAN = { overEstimate: 1, underEstimate: 1 };

function randomMatrix(rows: number, cols: number, seed: number, scale = 1, offset = 0): Matrix<Float32Array> {
  const random = mulberry32(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => offset + scale * randomNormal(random)) };
}

function mapRows(x: Matrix, k: number, f: (row: Float32Array) => number[]): Matrix<Float32Array> {
  const y = { rows: x.rows, cols: k, data: new Float32Array(x.rows * k) };
  for (let i = 0; i < x.rows; i++) y.data.set(f(x.data.subarray(i * x.cols, (i + 1) * x.cols) as Float32Array), i * k);
  return y;
}

function meanLoss(head: RegressionHead, x: Matrix, y: Matrix, weights = EUCLIDEAN): number {
  const predicted = applyHeadBatch(head, x);
  let sum = 0;
  for (let i = 0; i < x.rows; i++) sum += asymmetricLoss(y.data.subarray(i * y.cols, (i + 1) * y.cols), predicted.data.subarray(i * y.cols, (i + 1) * y.cols), weights);
  return sum / x.rows;
}

describe('trainGradientHead', () => {
  const x = randomMatrix(400, 8, 1, 2, 5);
  const truth = randomMatrix(8, 3, 2);
  const y = mapRows(x, 3, (row) => [0, 1, 2].map((j) => 1 + row.reduce((s, v, p) => s + v * truth.data[p * 3 + j], 0)));
  const options: GradientHeadOptions = { epochs: 60, learningRate: 0.02, batchSize: 32, lossWeights: EUCLIDEAN, seed: 5 };

  it('learns a known linear map', () => {
    const { head, history, bestEpoch } = trainGradientHead(x, y, options);
    expect(head.layers).toHaveLength(1);
    expect(history).toHaveLength(60);
    expect(bestEpoch).toBe(60);
    expect(history[59].trainLoss).toBeLessThan(history[0].trainLoss / 100);
    const learned = head.layers[0].weights.data;
    Array.from(truth.data).forEach((w, i) => expect(learned[i]).toBeCloseTo(w, 1));
    expect(meanLoss(head, x, y)).toBeLessThan(0.01);
  });

  it('decays weights (not biases) and reports each epoch as it ends', () => {
    const seen: number[] = [];
    const short = { ...options, epochs: 10 };
    const plain = trainGradientHead(x, y, { ...short, onEpoch: (record) => seen.push(record.epoch) });
    const decayed = trainGradientHead(x, y, { ...short, weightDecay: 5 });
    expect(seen).toEqual(plain.history.map((record) => record.epoch));
    const norm = (head: RegressionHead): number => Math.hypot(...head.layers[0].weights.data);
    expect(norm(decayed.head)).toBeLessThan(norm(plain.head) / 2);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const short = { ...options, epochs: 3, hiddenUnits: 5 };
    const first = trainGradientHead(x, y, short).head;
    const again = trainGradientHead(x, y, short).head;
    const other = trainGradientHead(x, y, { ...short, seed: 6 }).head;
    first.layers.forEach((layer, l) => {
      expect(again.layers[l].weights.data).toEqual(layer.weights.data);
      expect(again.layers[l].bias).toEqual(layer.bias);
    });
    expect(other.layers[0].weights.data).not.toEqual(first.layers[0].weights.data);
  });

  it('with a hidden ReLU layer fits what a linear head cannot', () => {
    const inputs = randomMatrix(300, 2, 3);
    const absolute = mapRows(inputs, 1, (row) => [Math.abs(row[0])]);
    const settings = { ...options, epochs: 80 };
    const mlp = trainGradientHead(inputs, absolute, { ...settings, hiddenUnits: 16 });
    const linear = trainGradientHead(inputs, absolute, settings);
    expect(mlp.head.layers).toHaveLength(2);
    expect(mlp.head.layers[0].weights.cols).toBe(16);
    expect(meanLoss(linear.head, inputs, absolute)).toBeGreaterThan(0.1);
    // Near-exact fit: only reachable with correct gradients through the ReLU.
    expect(meanLoss(mlp.head, inputs, absolute)).toBeLessThan(1e-3);
  });

  it('with the asymmetric loss settles above the mean, at the 0.75-expectile', () => {
    // No usable features, so the head predicts one value b, minimising Σ w (b − g)² with w = 3 where b < g.
    // Labels are all positive here (sign flips would change which side is "under").
    const constant = { rows: 200, cols: 1, data: new Float32Array(200).fill(1) };
    const labels = randomMatrix(200, 1, 4, 0.5, 3);
    const result = trainGradientHead(constant, labels, { epochs: 150, learningRate: 0.05, batchSize: 200, seed: 1 });
    const prediction = applyHead(result.head, Float32Array.of(1))[0];
    const g = Array.from(labels.data);
    expect(Math.min(...g)).toBeGreaterThan(0);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    // The expectile e solves Σ_{g > e} 3 (g − e) = Σ_{g < e} (e − g); bisect for it.
    let [low, high] = [Math.min(...g), Math.max(...g)];
    for (let step = 0; step < 60; step++) {
      const e = (low + high) / 2;
      const balance = g.reduce((s, v) => s + (v > e ? 3 * (v - e) : v - e), 0);
      if (balance > 0) low = e;
      else high = e;
    }
    expect(prediction).toBeGreaterThan(mean + 0.1);
    expect(prediction).toBeCloseTo(low, 2);
  });

  it('stops early on a rising validation loss and returns the best epoch', () => {
    // Pure noise: anything learned is overfitting, so validation loss soon rises.
    const features = randomMatrix(60, 40, 7);
    const noise = randomMatrix(60, 2, 8);
    const result = trainGradientHead(features, noise, { epochs: 300, learningRate: 0.05, batchSize: 8, validationFraction: 0.3, patience: 4, seed: 2 });
    const losses = result.history.map((record) => record.validationLoss ?? NaN);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(result.history.length).toBeLessThan(300);
    expect(result.history.length).toBe(result.bestEpoch + 4);
    expect(Math.min(...losses)).toBe(losses[result.bestEpoch - 1]);
  });

  it('rejects mismatched rows and a validation split that leaves nothing to train on', () => {
    expect(() => trainGradientHead(x, { ...y, rows: 10, data: y.data.subarray(0, 30) }, options)).toThrow(RangeError);
    expect(() => trainGradientHead(x, y, { ...options, validationFraction: 1 })).toThrow(RangeError);
  });
});
