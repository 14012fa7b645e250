import { describe, expect, it } from '@jest/globals';
import { ChangeWatermark } from '../../../src/gallery/change-watermark.js';

describe('ChangeWatermark', () => {
  it('advances over contiguous ids', () => {
    const mark = new ChangeWatermark(10, 5000);
    mark.applied([11, 12, 13], 0);
    expect(mark.watermark).toBe(13);
    expect(mark.isNew(13)).toBe(false);
    expect(mark.isNew(14)).toBe(true);
  });

  it('waits at a hole, so a change committed late is still read, and does not apply the later ones twice', () => {
    const mark = new ChangeWatermark(0, 5000);
    mark.applied([1, 3, 4], 1000);
    expect(mark.watermark).toBe(1);
    expect(mark.isNew(3)).toBe(false);
    expect(mark.isNew(2)).toBe(true);
    mark.applied([2], 2000);
    expect(mark.watermark).toBe(4);
  });

  it('gives up on a hole that stays open past the timeout (a rolled-back transaction)', () => {
    const mark = new ChangeWatermark(0, 5000);
    mark.applied([1, 3], 1000);
    mark.applied([], 5999);
    expect(mark.watermark).toBe(1);
    mark.applied([], 6000);
    expect(mark.watermark).toBe(3);
    mark.applied([5], 7000);
    expect(mark.watermark).toBe(3);
  });

  it('ignores ids at or below the watermark', () => {
    const mark = new ChangeWatermark(7, 5000);
    mark.applied([3, 7], 0);
    expect(mark.watermark).toBe(7);
    expect(mark.isNew(5)).toBe(false);
  });
});
