import { describe, expect, it } from '@jest/globals';
import { combineRanges, INT8_RECIPES } from '../../../../tools/quantize/calibration.js';
import { INT8_NETWORKS } from '../../../../src/inference/networks.js';

describe('combineRanges', () => {
  const samples = new Map([['x', { mins: Float32Array.from([-1, -2, -3, -4, -100]), maxs: Float32Array.from([1, 2, 3, 4, 100]) }]]);

  it('takes the plain extremes over every input at share 1', () => {
    expect(combineRanges(samples, 1)).toEqual({ x: [-100, 100] });
  });

  it('leaves out the rare outlier input at a lower share, from both ends', () => {
    expect(combineRanges(samples, 0.75)).toEqual({ x: [-4, 4] });
  });
});

describe('INT8_RECIPES', () => {
  it('has a recipe for every network the service runs int8', () => {
    for (const name of INT8_NETWORKS) expect(INT8_RECIPES[name]).toBeDefined();
  });
});
