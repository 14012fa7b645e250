import { describe, expect, it } from '@jest/globals';
import { fitConfidence } from '../../../src/morphable/fit.js';

describe('fit confidence', () => {
  it('weights frontal photos by their landmark confidence and turned ones less, never to zero', () => {
    expect(fitConfidence(0.9, 0)).toBeCloseTo(0.9, 10);
    expect(fitConfidence(1, 60)).toBeCloseTo(0.25, 10);
    expect(fitConfidence(1, 90)).toBe(0.05);
  });
});
