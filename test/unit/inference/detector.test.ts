import { describe, expect, it } from '@jest/globals';
import type { Box } from '../../../src/core/image.js';
import type { Detection } from '../../../src/inference/detect-decode.js';
import { intersectionOverUnion } from '../../../src/inference/detect-decode.js';
import { boxArea, detectionOver, largestDetection } from '../../../src/inference/detector.js';

const detection = (box: Box): Detection => ({ box, score: 0.9, keypoints: [] });

describe('detectionOver: a stored face found again', () => {
  const stored: Box = { x: 100, y: 100, width: 100, height: 100 };

  it('takes the largest face, as a fresh enrollment does, when it is over the stored box, though a smaller one overlaps it more', () => {
    // Two faces the detector keeps apart (IoU under its 0.3 suppression), each over the stored box by half or more.
    const largest = detection({ x: 92, y: 124, width: 99, height: 107 });
    const smaller = detection({ x: 119, y: 95, width: 80, height: 84 });
    expect(boxArea(largest.box)).toBeGreaterThan(boxArea(smaller.box));
    expect(intersectionOverUnion(largest.box, smaller.box)).toBeLessThan(0.3);
    expect(intersectionOverUnion(largest.box, stored)).toBeGreaterThanOrEqual(0.5);
    expect(intersectionOverUnion(smaller.box, stored)).toBeGreaterThan(intersectionOverUnion(largest.box, stored));
    expect(largestDetection([smaller, largest])).toBe(largest);

    expect(detectionOver([smaller, largest], stored)).toBe(largest);
  });

  it('takes the face overlapping the stored box most when the largest is not over it, and none when no face overlaps it by half', () => {
    const largest = detection({ x: 400, y: 0, width: 200, height: 200 });
    const near = detection({ x: 130, y: 100, width: 100, height: 100 });
    const nearer = detection({ x: 110, y: 100, width: 100, height: 100 });
    expect(detectionOver([largest, near, nearer], stored)).toBe(nearer);
    expect(detectionOver([largest, detection({ x: 170, y: 100, width: 100, height: 100 })], stored)).toBeUndefined();
  });
});
