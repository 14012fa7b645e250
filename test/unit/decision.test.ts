import { describe, expect, it } from '@jest/globals';
import { chooseThreshold, defaultThreshold, isUnknown, UNCALIBRATED_THRESHOLD } from '../../src/gallery/decision.js';

describe('thresholds', () => {
  it('default to the bundle’s calibration, or to the documented constant without one', () => {
    expect(defaultThreshold({ threshold: 0.42, falseAcceptRate: 0.001, measuredOn: 'LFW View 1 test' })).toEqual({
      value: 0.42,
      falseAcceptRate: 0.001,
      source: 'CALIBRATION',
    });
    expect(defaultThreshold(undefined)).toEqual({ value: UNCALIBRATED_THRESHOLD, falseAcceptRate: null, source: 'DEFAULT' });
  });

  it('take a requested value in [-1, 1] instead, which has no measured false-accept rate', () => {
    const fallback = defaultThreshold(undefined);
    expect(chooseThreshold(undefined, fallback)).toBe(fallback);
    expect(chooseThreshold(null, fallback)).toBe(fallback);
    expect(chooseThreshold(0.9, fallback)).toEqual({ value: 0.9, falseAcceptRate: null, source: 'REQUEST' });
    for (const bad of [1.5, -2, Number.NaN]) {
      expect(() => chooseThreshold(bad, fallback)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('call a probe unknown when there is no candidate or the best is below the threshold', () => {
    const threshold = chooseThreshold(0.5, defaultThreshold(undefined));
    expect(isUnknown(undefined, threshold)).toBe(true);
    expect(isUnknown(0.49, threshold)).toBe(true);
    expect(isUnknown(0.5, threshold)).toBe(false);
  });
});
