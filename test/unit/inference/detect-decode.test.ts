import { describe, expect, it } from '@jest/globals';
import { decodeDetections, intersectionOverUnion, weightedNonMaxSuppression, type DetectorHead } from '../../../src/inference/detect-decode.js';

function head(stride: number, anchorsPerCell: number, inputSize: number): DetectorHead {
  const anchors = (inputSize / stride) ** 2 * anchorsPerCell;
  return { logits: new Float32Array(anchors).fill(-20), regressors: new Float32Array(anchors * 16), stride, anchorsPerCell };
}

describe('BlazeFace decoding', () => {
  it('places a box and keypoints relative to the anchor at the grid cell centre', () => {
    const h = head(16, 2, 64);
    // Cell (x = 2, y = 1), second anchor: index (1 * 4 + 2) * 2 + 1 = 13; centre (40, 24).
    h.logits[13] = 3;
    h.regressors.set([2, -4, 20, 10, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 13 * 16);
    const [d] = decodeDetections([h], 64, 0.5);
    expect(d.score).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    expect(d.box).toEqual({ x: 42 - 10, y: 20 - 5, width: 20, height: 10 });
    expect(d.keypoints[0]).toEqual({ x: 41, y: 25 });
    expect(d.keypoints).toHaveLength(6);
  });

  it('drops anchors below the score threshold', () => {
    expect(decodeDetections([head(16, 2, 64)], 64, 0.5)).toEqual([]);
  });

  it('merges overlapping detections by score and keeps separate faces apart', () => {
    const kp = Array.from({ length: 6 }, () => ({ x: 0, y: 0 }));
    const merged = weightedNonMaxSuppression([
      { box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.9, keypoints: kp },
      { box: { x: 2, y: 0, width: 10, height: 10 }, score: 0.3, keypoints: kp },
      { box: { x: 50, y: 50, width: 10, height: 10 }, score: 0.8, keypoints: kp },
    ], 0.3);
    expect(merged).toHaveLength(2);
    expect(merged[0].score).toBe(0.9);
    expect(merged[0].box.x).toBeCloseTo((0 * 0.9 + 2 * 0.3) / 1.2, 6);
    expect(merged[1].box.x).toBe(50);
  });

  it('computes intersection over union', () => {
    expect(intersectionOverUnion({ x: 0, y: 0, width: 2, height: 2 }, { x: 1, y: 0, width: 2, height: 2 })).toBeCloseTo(2 / 6, 10);
    expect(intersectionOverUnion({ x: 0, y: 0, width: 1, height: 1 }, { x: 5, y: 5, width: 1, height: 1 })).toBe(0);
  });
});
