import { describe, expect, it } from '@jest/globals';
import {
  anchorParetoTail,
  bodyPoints,
  falseAcceptRate,
  falsePositiveIdentificationRate,
  fitParetoTail,
  fitTemplateExponent,
  measuredCurve,
  scoreAtFalseAcceptRate,
  thresholdForFpir,
  upperBoundCurve,
  type ImpostorCurve,
  type ImpostorPair,
} from '../../../src/training/impostor-tail.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

/** Scores whose top 1% are u + GPD(ξ, σ) draws and the rest uniform below u, highest first. */
function paretoScores(count: number, shape: number, scale: number, u = 0.5): Float32Array {
  const random = mulberry32(7);
  const tail = Math.floor(count / 100);
  const scores = Array.from({ length: count }, (_, i) => {
    if (i >= tail) return u * random();
    const p = 1 - random();
    return u + (scale / shape) * (p ** -shape - 1);
  });
  return Float32Array.from(scores).sort().reverse();
}

/** Independent N(0, 0.1) impostor scores, highest first, and a curve fitted to them. */
function gaussianCurve(count: number): { scores: Float32Array; curve: ImpostorCurve } {
  const random = mulberry32(11);
  const scores = Float32Array.from({ length: count }, () => 0.1 * randomNormal(random)).sort().reverse();
  const tail = fitParetoTail(scores, 0.001);
  return { scores, curve: { body: bodyPoints(scores, tail), tail, templateExponent: 1 } };
}

describe('the generalised Pareto tail', () => {
  it('recovers the shape and scale of exceedances drawn from a known GPD', () => {
    const fit = fitParetoTail(paretoScores(400_000, -0.25, 0.04), 0.01);
    expect(fit.exceedances).toBe(4000);
    expect(fit.threshold).toBeCloseTo(0.5, 2);
    expect(fit.shape).toBeCloseTo(-0.25, 1);
    expect(fit.scale).toBeGreaterThan(0.036);
    expect(fit.scale).toBeLessThan(0.044);
  });

  it('is the same GPD seen from a higher score (threshold stability), so it can be re-anchored where measurements end', () => {
    const fitted = { threshold: 0.5, exceedanceRate: 0.01, shape: -0.2, scale: 0.05, exceedances: 1000 };
    const asCurve = (tail: typeof fitted) => ({ body: [{ score: 0, falseAcceptRate: 1 }, { score: tail.threshold, falseAcceptRate: tail.exceedanceRate }], tail, templateExponent: 1 });
    const original = asCurve(fitted);
    const anchored = anchorParetoTail(fitted, 0.6, falseAcceptRate(original, 0.6));
    expect(anchored).toMatchObject({ threshold: 0.6, fittedAbove: 0.5, shape: -0.2, scale: expect.closeTo(0.05 - 0.2 * 0.1, 12) });
    for (const score of [0.61, 0.65, 0.7]) expect(falseAcceptRate(asCurve(anchored), score) / falseAcceptRate(original, score)).toBeCloseTo(1, 10);
    expect(anchorParetoTail(fitted, 0.4, 0.1)).toBe(fitted);
  });

  it('keeps measured rates down to where a given number of pairs remain, and the fit beyond', () => {
    const { scores } = gaussianCurve(1_000_000);
    const curve = measuredCurve(scores, 0.001, 25);
    expect(curve.tail).toMatchObject({ threshold: scores[25], exceedanceRate: 25e-6, exceedances: 1000, fittedAbove: scores[1000] });
    for (const rank of [25, 100, 1000, 10_000, 100_000]) {
      expect(falseAcceptRate(curve, scores[rank]) / (rank / scores.length)).toBeGreaterThan(0.85);
      expect(falseAcceptRate(curve, scores[rank]) / (rank / scores.length)).toBeLessThan(1.15);
    }
    expect(falseAcceptRate(curve, scores[5])).toBeLessThan(25e-6);
  });

  it('refuses a tail of fewer than 10 pairs', () => {
    expect(() => fitParetoTail(new Float32Array(100), 0.05)).toThrow(RangeError);
  });

  it('predicts FAR where the measured pairs run out: fitted on 1 in 1000, checked at 1 in 100,000', () => {
    const { scores, curve } = gaussianCurve(2_000_000);
    for (const rate of [1e-3, 1e-4, 1e-5]) {
      const measuredScore = scores[Math.floor(rate * scores.length)];
      const predicted = falseAcceptRate(curve, measuredScore);
      expect(predicted / rate).toBeGreaterThan(0.7);
      expect(predicted / rate).toBeLessThan(1.4);
    }
  });

  it('makes FAR continuous and decreasing, and scoreAtFalseAcceptRate its inverse in body and tail', () => {
    const { curve } = gaussianCurve(200_000);
    let previous = 1;
    for (let score = -0.4; score < 0.6; score += 0.01) {
      const far = falseAcceptRate(curve, score);
      expect(far).toBeLessThanOrEqual(previous);
      previous = far;
    }
    expect(falseAcceptRate(curve, curve.tail.threshold)).toBeCloseTo(curve.tail.exceedanceRate, 12);
    expect(falseAcceptRate(curve, curve.tail.threshold - 1e-9)).toBeCloseTo(curve.tail.exceedanceRate, 6);
    for (const far of [0.3, 0.01, 0.002, 1e-4, 1e-7]) {
      expect(falseAcceptRate(curve, scoreAtFalseAcceptRate(curve, far)) / far).toBeCloseTo(1, 6);
    }
  });
});

describe('FPIR against a gallery of N templates', () => {
  it('is 1 − (1 − FAR)^N for independent templates, FAR itself for one', () => {
    const { curve } = gaussianCurve(200_000);
    const far = falseAcceptRate(curve, 0.3);
    expect(falsePositiveIdentificationRate(curve, 0.3, 1)).toBeCloseTo(far, 12);
    expect(falsePositiveIdentificationRate(curve, 0.3, 500)).toBeCloseTo(1 - (1 - far) ** 500, 10);
    expect(falsePositiveIdentificationRate({ ...curve, templateExponent: 0.5 }, 0.3, 400)).toBeCloseTo(1 - (1 - far) ** 20, 10);
  });

  it('gives thresholds that reach the target and rise with the gallery', () => {
    const { curve } = gaussianCurve(200_000);
    let previous = -Infinity;
    for (const templates of [1, 10, 100, 1000, 100_000]) {
      const threshold = thresholdForFpir(curve, 0.01, templates);
      expect(falsePositiveIdentificationRate(curve, threshold, templates)).toBeCloseTo(0.01, 8);
      expect(threshold).toBeGreaterThan(previous);
      previous = threshold;
    }
  });

  it('agrees with a direct simulation of the best of N independent impostor scores', () => {
    const { curve } = gaussianCurve(1_000_000);
    const random = mulberry32(3);
    for (const templates of [10, 300]) {
      const threshold = thresholdForFpir(curve, 0.05, templates);
      const trials = 4000;
      let named = 0;
      for (let t = 0; t < trials; t++) {
        let best = -Infinity;
        for (let i = 0; i < templates; i++) best = Math.max(best, 0.1 * randomNormal(random));
        if (best >= threshold) named++;
      }
      // 4000 trials at 5%: one standard error is 0.0034.
      expect(Math.abs(named / trials - 0.05)).toBeLessThan(0.012);
    }
  });

  it('fits the exponent of Nₑ = N^b from simulated operating points', () => {
    const observations = [10, 100, 1000].flatMap((templates) =>
      [1e-3, 1e-4].map((far) => ({ templates, falseAcceptRate: far, fpir: 1 - (1 - far) ** (templates ** 0.8) })),
    );
    expect(fitTemplateExponent(observations)).toBeCloseTo(0.8, 8);
    expect(() => fitTemplateExponent([{ templates: 1, falseAcceptRate: 0.1, fpir: 0.1 }])).toThrow(RangeError);
  });
});

/**
 * Every pair of `people` people (one photo each) scoring below 0.5 at random, except `high`
 * pairs at 0.6 to 0.7: the curve of all pairs, and the pairs of its top 1%.
 */
function peopleCurve(people: number, high: readonly (readonly [number, number])[]): { curve: ImpostorCurve; top: ImpostorPair[] } {
  const random = mulberry32(5);
  const pairs: ImpostorPair[] = [];
  const special = new Map(high.map(([a, b], i) => [`${a},${b}`, 0.6 + (0.1 * i) / high.length]));
  for (let a = 0; a < people; a++) for (let b = a + 1; b < people; b++) pairs.push({ score: special.get(`${a},${b}`) ?? 0.5 * random(), a, b });
  pairs.sort((x, y) => y.score - x.score);
  const curve = measuredCurve(Float32Array.from(pairs, (p) => p.score), 0.001, 10);
  return { curve, top: pairs.slice(0, Math.floor(pairs.length / 100)) };
}

describe('the upper confidence bound of FAR (people bootstrap)', () => {
  const people = 400;
  const options = { quantile: 0.95, resamples: 400 };
  const spread = Array.from({ length: 40 }, (_, i) => [2 * i, 2 * i + 1] as const);
  const hub = Array.from({ length: 40 }, (_, i) => [0, i + 1] as const);

  it('never lies below the estimate, keeps FAR decreasing and continuous into the tail, and says how it was made', () => {
    const { curve, top } = peopleCurve(people, spread);
    const bounded = upperBoundCurve(curve, top, new Array(people).fill(1), { ...options, random: mulberry32(1) });
    let previous = 1;
    for (let score = 0; score < 0.75; score += 0.005) {
      const far = falseAcceptRate(bounded, score);
      expect(far).toBeGreaterThanOrEqual(falseAcceptRate(curve, score) * (1 - 1e-9));
      expect(far).toBeLessThanOrEqual(previous);
      previous = far;
    }
    expect(falseAcceptRate(bounded, bounded.tail.threshold - 1e-9)).toBeCloseTo(bounded.tail.exceedanceRate, 6);
    expect(bounded.tail).toMatchObject({ shape: curve.tail.shape, scale: curve.tail.scale, threshold: curve.tail.threshold });
    expect(bounded.bound).toMatchObject({ quantile: 0.95, resamples: 400, people });
    expect(bounded.bound!.largestRatio).toBeGreaterThan(1);
    // Below the lowest pair given, where pairs are plentiful, the estimate stands.
    expect(falseAcceptRate(bounded, 0.1)).toBe(falseAcceptRate(curve, 0.1));
  });

  it('is wider when the high-scoring pairs share one person than when they join distinct people', () => {
    const ratioAt = (high: readonly (readonly [number, number])[]): number => {
      const { curve, top } = peopleCurve(people, high);
      const bounded = upperBoundCurve(curve, top, new Array(people).fill(1), { ...options, random: mulberry32(2) });
      return falseAcceptRate(bounded, 0.6) / falseAcceptRate(curve, 0.6);
    };
    const [spreadRatio, hubRatio] = [ratioAt(spread), ratioAt(hub)];
    expect(spreadRatio).toBeGreaterThan(1.1);
    expect(spreadRatio).toBeLessThan(2);
    expect(hubRatio).toBeGreaterThan(1.5 * spreadRatio);
  });

  it('raises the threshold for a target FPIR at every gallery size, and needs the high pairs', () => {
    const { curve, top } = peopleCurve(people, hub);
    const bounded = upperBoundCurve(curve, top, new Array(people).fill(1), { ...options, random: mulberry32(3) });
    for (const templates of [1, 10, 100]) expect(thresholdForFpir(bounded, 0.01, templates)).toBeGreaterThanOrEqual(thresholdForFpir(curve, 0.01, templates));
    expect(() => upperBoundCurve(curve, [], [1], { ...options, random: mulberry32(4) })).toThrow(RangeError);
  });
});
