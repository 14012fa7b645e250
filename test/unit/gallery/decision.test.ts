import { describe, expect, it } from '@jest/globals';
import { isUnknown, ThresholdPolicy, UNCALIBRATED_THRESHOLD } from '../../../src/gallery/decision.js';
import { thresholdForFpir, type ImpostorCurve } from '../../../src/training/impostor-tail.js';

const perPair = { threshold: 0.42, falseAcceptRate: 0.001, measuredOn: 'LFW View 1 test' };
/** FAR 1 at score 0, 0.01 at 0.5, then an exponential tail (ξ = 0) with scale 0.1. */
const curve: ImpostorCurve = {
  body: [{ score: 0, falseAcceptRate: 1 }, { score: 0.5, falseAcceptRate: 0.01 }],
  tail: { threshold: 0.5, exceedanceRate: 0.01, shape: 0, scale: 0.1, exceedances: 1000 },
  templateExponent: 1,
};

describe('thresholds', () => {
  it('follow the gallery’s size and the target FPIR when the bundle has an impostor curve', () => {
    const policy = new ThresholdPolicy({ ...perPair, impostors: curve }, 0.01);
    const small = policy.forGallery(10);
    const large = policy.forGallery(10_000);
    expect(small).toMatchObject({ source: 'TARGET_FPIR', templates: 10, fpir: expect.closeTo(0.01, 8) });
    expect(small.value).toBeCloseTo(thresholdForFpir(curve, 0.01, 10), 12);
    expect(large.value).toBeGreaterThan(small.value);
    // 1 − (1 − FAR)^10 = 0.01 → FAR ≈ 0.001005, 0.5 + 0.1·ln(0.01 / FAR) in the exponential tail.
    expect(small.falseAcceptRate).toBeCloseTo(0.001005, 6);
    expect(small.value).toBeCloseTo(0.5 + 0.1 * Math.log(0.01 / small.falseAcceptRate!), 10);
    expect(policy.forGallery(0).templates).toBe(1);
  });

  it('say when their FPIRs are upper confidence bounds (the bundle\'s curve is a bootstrap bound), and not otherwise', () => {
    const bound = { quantile: 0.95, resamples: 1000, people: 2854, from: 0.01, largestRatio: 1.7 };
    expect(new ThresholdPolicy({ ...perPair, impostors: { ...curve, bound } }).fpirConfidence).toBe(0.95);
    expect(new ThresholdPolicy({ ...perPair, impostors: curve }).fpirConfidence).toBeNull();
    expect(new ThresholdPolicy(perPair).fpirConfidence).toBeNull();
  });

  it('give each score its stranger chance against this gallery', () => {
    const policy = new ThresholdPolicy({ ...perPair, impostors: curve }, 0.01);
    expect(policy.strangerChance(policy.forGallery(300).value, 300)).toBeCloseTo(0.01, 8);
    expect(policy.strangerChance(0.9, 300)!).toBeLessThan(policy.strangerChance(0.7, 300)!);
    expect(policy.strangerChance(0.7, 3000)!).toBeGreaterThan(policy.strangerChance(0.7, 300)!);
  });

  it('keep an older bundle’s per-pair calibration, or the documented constant without one', () => {
    expect(new ThresholdPolicy(perPair).forGallery(500)).toEqual({ value: 0.42, falseAcceptRate: 0.001, fpir: null, templates: 500, source: 'CALIBRATION' });
    expect(new ThresholdPolicy(undefined).forGallery(1)).toEqual({ value: UNCALIBRATED_THRESHOLD, falseAcceptRate: null, fpir: null, templates: 1, source: 'DEFAULT' });
    expect(new ThresholdPolicy(perPair).strangerChance(0.9, 10)).toBeNull();
  });

  it('take a requested value in [-1, 1] instead, described by the curve where there is one', () => {
    const policy = new ThresholdPolicy({ ...perPair, impostors: curve });
    expect(policy.choose(undefined, 20)).toBe(policy.forGallery(20));
    expect(policy.choose(null, 20)).toBe(policy.forGallery(20));
    expect(policy.choose(0.5, 1)).toEqual({ value: 0.5, falseAcceptRate: 0.01, fpir: expect.closeTo(0.01, 12), templates: 1, source: 'REQUEST' });
    expect(new ThresholdPolicy(undefined).choose(0.9, 3)).toEqual({ value: 0.9, falseAcceptRate: null, fpir: null, templates: 3, source: 'REQUEST' });
    for (const bad of [1.5, -2, Number.NaN]) {
      expect(() => policy.choose(bad, 1)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('refuse a target FPIR outside (0, 1)', () => {
    for (const bad of [0, 1, -0.1, Number.NaN]) expect(() => new ThresholdPolicy(undefined, bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('call a probe unknown when there is no candidate or the best is below the threshold', () => {
    const threshold = new ThresholdPolicy(undefined).choose(0.5, 1);
    expect(isUnknown(undefined, threshold)).toBe(true);
    expect(isUnknown(0.49, threshold)).toBe(true);
    expect(isUnknown(0.5, threshold)).toBe(false);
  });
});
