import { describe, expect, it } from '@jest/globals';

import {
  asymmetricLoss,
  asymmetricLossWithGradient,
  batchAsymmetricLoss,
  PAPER_LOSS_WEIGHTS,
} from '../../../src/training/asymmetric-loss.js';
import { zeros64 } from '../../../src/core/linear-algebra.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

const vec = (...values: number[]): Float64Array => Float64Array.from(values);

/** The paper's formula written out literally, as an independent reference. */
function literalLoss(g: Float64Array, p: Float64Array, l1: number, l2: number): number {
  let first = 0;
  let second = 0;
  g.forEach((gc, c) => {
    const gPlus = Math.abs(gc);
    const pPlus = (gc < 0 ? -1 : 1) * p[c];
    const gMax = Math.max(gPlus, pPlus);
    first += (gPlus - gMax) ** 2;
    second += (pPlus - gMax) ** 2;
  });
  return l1 * first + l2 * second;
}

describe('asymmetric Euclidean loss', () => {
  it('charges over-estimation l1 and under-estimation l2 (paper weights 1 and 3)', () => {
    expect(PAPER_LOSS_WEIGHTS).toEqual({ overEstimate: 1, underEstimate: 3 });
    expect(asymmetricLoss(vec(2), vec(3))).toBe(1);
    expect(asymmetricLoss(vec(2), vec(1))).toBe(3);
    // Magnitude counts, not signed value: for a negative label, −3 over-shoots and −1 falls short.
    expect(asymmetricLoss(vec(-2), vec(-3))).toBe(1);
    expect(asymmetricLoss(vec(-2), vec(-1))).toBe(3);
  });

  it('makes over-estimating by an amount cheaper than under-estimating by the same amount', () => {
    for (const [g, d] of [[0.5, 0.2], [-1.5, 0.7], [3, 1]]) {
      const magnitude = Math.abs(g);
      const outward = Math.sign(g) * (magnitude + d);
      const inward = Math.sign(g) * (magnitude - d);
      expect(asymmetricLoss(vec(g), vec(outward))).toBeLessThan(asymmetricLoss(vec(g), vec(inward)));
    }
  });

  it('treats a prediction of the wrong sign as falling short', () => {
    expect(asymmetricLoss(vec(-2), vec(1))).toBe(3 * 9);
  });

  it('matches the literal formula and reduces to squared error with equal weights', () => {
    const random = mulberry32(1);
    const g = Float64Array.from({ length: 50 }, () => randomNormal(random));
    const p = Float64Array.from({ length: 50 }, () => randomNormal(random));
    expect(asymmetricLoss(g, p)).toBeCloseTo(literalLoss(g, p, 1, 3), 12);
    expect(asymmetricLoss(g, p, { overEstimate: 2, underEstimate: 0.5 })).toBeCloseTo(literalLoss(g, p, 2, 0.5), 12);
    const squared = g.reduce((sum, gc, c) => sum + (gc - p[c]) ** 2, 0);
    expect(asymmetricLoss(g, p, { overEstimate: 1, underEstimate: 1 })).toBeCloseTo(squared, 12);
  });

  it('has the gradient that finite differences measure', () => {
    const random = mulberry32(2);
    const g = Float64Array.from({ length: 20 }, () => randomNormal(random));
    const p = Float64Array.from({ length: 20 }, () => randomNormal(random));
    const { loss, gradient } = asymmetricLossWithGradient(g, p);
    expect(loss).toBe(asymmetricLoss(g, p));
    const h = 1e-6;
    p.forEach((_, c) => {
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[c] += h;
      down[c] -= h;
      expect(gradient[c]).toBeCloseTo((asymmetricLoss(g, up) - asymmetricLoss(g, down)) / (2 * h), 5);
    });
  });

  it('batch form is the mean over rows, with the gradient of that mean', () => {
    const labels = { rows: 2, cols: 2, data: vec(2, -1, 0.5, 3) };
    const predictions = { rows: 2, cols: 2, data: vec(3, 0, 0, 4) };
    const gradient = zeros64(2, 2);
    const loss = batchAsymmetricLoss(labels, predictions, PAPER_LOSS_WEIGHTS, gradient);
    const rows = [0, 1].map((r) => asymmetricLossWithGradient(labels.data.subarray(2 * r, 2 * r + 2), predictions.data.subarray(2 * r, 2 * r + 2)));
    expect(loss).toBeCloseTo((rows[0].loss + rows[1].loss) / 2, 12);
    expect(Array.from(gradient.data)).toEqual([...rows[0].gradient, ...rows[1].gradient].map((v) => v / 2));
    // Hand values: row 0 = 1·1² + 3·1² = 4, row 1 = 3·0.5² + 1·1² = 1.75.
    expect(loss).toBeCloseTo((4 + 1.75) / 2, 12);
  });

  it('rejects mismatched shapes', () => {
    expect(() => asymmetricLoss(vec(1, 2), vec(1))).toThrow(RangeError);
    expect(() => batchAsymmetricLoss(zeros64(2, 3), zeros64(3, 2))).toThrow(RangeError);
  });
});
