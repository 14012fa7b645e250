import { describe, expect, it } from '@jest/globals';
import { thinPlateOperator } from '../../../src/morphable/thin-plate.js';
import { mulberry32 } from '../../../src/training/random.js';

describe('thin-plate spline', () => {
  const random = mulberry32(1);
  const centres = Array.from({ length: 12 }, () => 100 * random() - 50);
  const queries = Array.from({ length: 40 }, () => 140 * random() - 70);

  it('passes through the values at its centres', () => {
    const at = thinPlateOperator(centres, centres);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(at.data[i * 6 + j]).toBeCloseTo(i === j ? 1 : 0, 6);
  });

  it('continues a plane as that plane everywhere, even smoothed (planes cost no bending)', () => {
    const plane = (x: number, y: number) => 3 - 0.4 * x + 0.25 * y;
    const values = Array.from({ length: 6 }, (_, i) => plane(centres[2 * i], centres[2 * i + 1]));
    for (const lambda of [0, 1]) {
      const spline = thinPlateOperator(centres, queries, lambda);
      for (let q = 0; q < 20; q++) {
        const predicted = values.reduce((s, v, c) => s + v * spline.data[q * 6 + c], 0);
        expect(predicted).toBeCloseTo(plane(queries[2 * q], queries[2 * q + 1]), 6);
      }
    }
  });

  it('smoothing pulls a bump towards the plane through the rest', () => {
    const values = [5, 0, 0, 0, 0, 0];
    const at = (lambda: number) => {
      const spline = thinPlateOperator(centres, centres.slice(0, 2), lambda);
      return values.reduce((s, v, c) => s + v * spline.data[c], 0);
    };
    expect(at(0)).toBeCloseTo(5, 6);
    expect(at(1)).toBeLessThan(4.5);
    expect(at(10)).toBeLessThan(at(1));
    expect(at(10)).toBeGreaterThan(0);
  });

  it('refuses fewer than three centres', () => {
    expect(() => thinPlateOperator([0, 0, 1, 1], [0, 0])).toThrow(RangeError);
  });
});
