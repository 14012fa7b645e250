import { describe, expect, it } from '@jest/globals';

import {
  accuracyAt,
  areaUnderCurve,
  bestThresholdAccuracy,
  equalErrorRate,
  genuineRanks,
  identificationRates,
  rocCurve,
  stabilityRatio,
  tarAtFar,
  tenFoldAccuracy,
  type ScoredPair,
} from '../../../src/eval/metrics.js';

const pairsOf = (same: number[], different: number[]): ScoredPair[] => [
  ...same.map((score) => ({ score, same: true })),
  ...different.map((score) => ({ score, same: false })),
];

// Sorted: 0.9 S, 0.8 S, 0.7 D, 0.4 S, 0.3 D, 0.1 D.
const handCase = pairsOf([0.9, 0.8, 0.4], [0.7, 0.3, 0.1]);

describe('verification metrics on a hand-computed case', () => {
  it('ROC has one point per candidate threshold, from (0, 0) to (1, 1)', () => {
    const roc = rocCurve(handCase);
    expect(roc.map((p) => p.threshold)).toEqual([Infinity, expect.closeTo(0.85, 12), 0.75, expect.closeTo(0.55, 12), expect.closeTo(0.35, 12), expect.closeTo(0.2, 12), -Infinity]);
    expect(roc.map((p) => [p.falseAcceptRate, p.trueAcceptRate])).toEqual([
      [0, 0], [0, 1 / 3], [0, 2 / 3], [1 / 3, 2 / 3], [1 / 3, 1], [2 / 3, 1], [1, 1],
    ]);
  });

  it('best-threshold accuracy is 5/6 at 0.75 (the highest of the tied best)', () => {
    expect(bestThresholdAccuracy(handCase)).toEqual({ accuracy: 5 / 6, threshold: 0.75 });
    expect(accuracyAt(handCase, 0.75)).toBe(5 / 6);
    expect(accuracyAt(handCase, 0.35)).toBe(5 / 6);
    expect(accuracyAt(handCase, 0.5)).toBe(4 / 6);
  });

  it('AUC is the share of same/different pairs ranked correctly: 8/9', () => {
    expect(areaUnderCurve(handCase)).toBeCloseTo(8 / 9, 12);
  });

  it('EER is 1/3 at 0.55, where FAR = FRR exactly', () => {
    const eer = equalErrorRate(handCase);
    expect(eer.rate).toBeCloseTo(1 / 3, 12);
    expect(eer.threshold).toBeCloseTo(0.55, 12);
  });

  it('TAR at FAR picks the lowest threshold within the FAR budget', () => {
    expect(tarAtFar(handCase, 0)).toEqual({ threshold: 0.75, trueAcceptRate: 2 / 3, falseAcceptRate: 0 });
    expect(tarAtFar(handCase, 0.01)).toEqual({ threshold: 0.75, trueAcceptRate: 2 / 3, falseAcceptRate: 0 });
    const looser = tarAtFar(handCase, 0.5);
    expect(looser.threshold).toBeCloseTo(0.35, 12);
    expect([looser.trueAcceptRate, looser.falseAcceptRate]).toEqual([1, 1 / 3]);
  });

  it('counts a tie between a same and a different pair as one half in the AUC', () => {
    expect(areaUnderCurve(pairsOf([0.5], [0.5]))).toBeCloseTo(0.5, 12);
    expect(areaUnderCurve(pairsOf([0.9, 0.1], [0.5, 0.5]))).toBeCloseTo(0.5, 12);
  });

  it('interpolates the EER between ROC points when a tie jumps across it', () => {
    // ROC: (0, 0), (0, 0.5) at 0.7, (0.5, 1) at 0.3, (1, 1): FAR − FRR goes −0.5 -> +0.5.
    const eer = equalErrorRate(pairsOf([0.9, 0.5], [0.5, 0.1]));
    expect(eer.rate).toBeCloseTo(0.25, 12);
    expect(eer.threshold).toBeCloseTo(0.5, 12);
  });

  it('rejects NaN scores and one-sided pair sets', () => {
    expect(() => bestThresholdAccuracy(pairsOf([NaN], [0]))).toThrow(RangeError);
    expect(() => rocCurve(pairsOf([0.5, 0.6], []))).toThrow(RangeError);
  });
});

describe('tenFoldAccuracy', () => {
  // 20 same pairs scoring 1 and 20 different pairs scoring 0, except one different pair scoring 2:
  // no threshold can get that one right, and it lands in the fold its position dictates.
  const withBadDifferentPair = (position: number): ScoredPair[] =>
    pairsOf(new Array(20).fill(1), Array.from({ length: 20 }, (_, i) => (i === position ? 2 : 0)));

  it('scores each fold at the threshold chosen on the other nine', () => {
    const result = tenFoldAccuracy(withBadDifferentPair(0));
    expect(result.thresholds).toEqual(new Array(10).fill(0.5));
    expect(result.foldAccuracies).toEqual([0.75, ...new Array(9).fill(1)]);
    expect(result.mean).toBeCloseTo(0.975, 12);
    // Sample std of [0.75, 1 x 9]: sqrt((0.225² + 9 · 0.025²) / 9).
    expect(result.std).toBeCloseTo(Math.sqrt(0.00625), 12);
    expect(result.standardError).toBeCloseTo(Math.sqrt(0.00625) / Math.sqrt(10), 12);
  });

  it('uses consecutive tenths of the same pairs and of the different pairs as folds', () => {
    expect(tenFoldAccuracy(withBadDifferentPair(2)).foldAccuracies[1]).toBe(0.75);
    expect(tenFoldAccuracy(withBadDifferentPair(19)).foldAccuracies[9]).toBe(0.75);
  });

  it('uses LFW View 2 folds when the list is fold by fold', () => {
    // Fold f = 2 same then 2 different pairs; the bad pair is the first different pair of fold 3.
    const pairs = Array.from({ length: 10 }, (_, f) => pairsOf([1, 1], [f === 3 ? 2 : 0, 0])).flat();
    expect(tenFoldAccuracy(pairs).foldAccuracies[3]).toBe(0.75);
  });

  it('needs enough pairs of each kind for the folds', () => {
    expect(() => tenFoldAccuracy(pairsOf([1, 1, 1], [0, 0, 0]))).toThrow(RangeError);
  });
});

describe('identification', () => {
  const galleryLabels = ['a', 'b', 'c', 'a'];
  const probeLabels = ['a', 'b', 'c', 'd'];
  const similarity = {
    rows: 4,
    cols: 4,
    data: Float64Array.of(
      0.9, 0.5, 0.1, 0.2, // a: its subject scores best
      0.8, 0.7, 0.75, 0.1, // b: a (0.8) and c (0.75) beat it
      0.5, 0.1, 0.3, 0.5, // c: a's second photo beats it
      0.9, 0.9, 0.9, 0.9, // d: not in the gallery
    ),
  };

  it('ranks each probe’s subject by that subject’s best gallery score', () => {
    expect(Array.from(genuineRanks(similarity, probeLabels, galleryLabels))).toEqual([1, 3, 2, 0]);
  });

  it('counts ties against the probe', () => {
    const tied = { rows: 1, cols: 2, data: Float64Array.of(0.5, 0.5) };
    expect(Array.from(genuineRanks(tied, ['x'], ['x', 'y']))).toEqual([2]);
  });

  it('reports rank-1 and rank-5 rates over probes whose subject is enrolled', () => {
    expect(identificationRates(similarity, probeLabels, galleryLabels)).toEqual({ rank1: 1 / 3, rank5: 1, probesWithMate: 3, probesWithoutMate: 1 });
  });

  it('rejects a similarity matrix of the wrong shape', () => {
    expect(() => genuineRanks(similarity, probeLabels.slice(1), galleryLabels)).toThrow(RangeError);
  });
});

describe('stabilityRatio', () => {
  const vectors = [Float32Array.of(1, 0), Float32Array.of(1, 0.1), Float32Array.of(0, 1), Float32Array.of(0.1, 1)];
  const labels = ['a', 'a', 'b', 'b'];
  const cos = (a: number[], b: number[]): number => (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(...a) * Math.hypot(...b));

  it('divides the mean within-person cosine distance by the mean between-person one', () => {
    const within = 1 - cos([1, 0], [1, 0.1]);
    const between = (4 - cos([1, 0], [0, 1]) - cos([1, 0], [0.1, 1]) - cos([1, 0.1], [0, 1]) - cos([1, 0.1], [0.1, 1])) / 4;
    const result = stabilityRatio(vectors, labels);
    expect(result.withinPairs).toBe(2);
    expect(result.betweenPairs).toBe(4);
    expect(result.withinDistance).toBeCloseTo(within, 6);
    expect(result.betweenDistance).toBeCloseTo(between, 6);
    expect(result.ratio).toBeCloseTo(within / between, 6);
  });

  it('samples deterministically when there are more pairs than asked for', () => {
    const many = Array.from({ length: 60 }, (_, i) => Float32Array.of(Math.cos(i), Math.sin(i), (i % 3) / 3));
    const people = many.map((_, i) => `p${i % 6}`);
    const sampled = stabilityRatio(many, people, { maxPairs: 100, seed: 3 });
    expect([sampled.withinPairs, sampled.betweenPairs]).toEqual([100, 100]);
    expect(stabilityRatio(many, people, { maxPairs: 100, seed: 3 })).toEqual(sampled);
    const exact = stabilityRatio(many, people);
    expect(sampled.ratio).toBeCloseTo(exact.ratio, 0);
  });

  it('needs two people and someone with two vectors', () => {
    expect(() => stabilityRatio(vectors.slice(0, 2), ['a', 'a'])).toThrow(RangeError);
    expect(() => stabilityRatio(vectors.slice(0, 2), ['a', 'b'])).toThrow(RangeError);
  });
});
