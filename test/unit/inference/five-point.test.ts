import { describe, expect, it } from '@jest/globals';
import { cropToImage, sampleRegion } from '../../../src/inference/crop.js';
import { fitSimilarity, FIVE_POINT_REFERENCE_112, fivePointRegion, fivePointsFromFaceMesh } from '../../../src/inference/five-point.js';
import type { Point2, RgbImage } from '../../../src/core/image.js';
import { FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';

/** The reference's pixel-index points carried into a photo by scale, rotation and shift (crop.ts coordinates). */
function placeReference(scale: number, angle: number, tx: number, ty: number): Point2[] {
  return FIVE_POINT_REFERENCE_112.map(({ x, y }) => {
    const u = x + 0.5, v = y + 0.5;
    return { x: scale * (Math.cos(angle) * u - Math.sin(angle) * v) + tx, y: scale * (Math.sin(angle) * u + Math.cos(angle) * v) + ty };
  });
}

describe('five-point similarity alignment', () => {
  it('recovers a known similarity exactly', () => {
    const source: Point2[] = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 3, y: 7 }];
    const target = source.map(({ x, y }) => ({ x: 2 * (Math.cos(0.4) * x - Math.sin(0.4) * y) + 5, y: 2 * (Math.sin(0.4) * x + Math.cos(0.4) * y) - 3 }));
    const t = fitSimilarity(source, target);
    expect(t.scale).toBeCloseTo(2, 9);
    expect(t.angle).toBeCloseTo(0.4, 9);
    expect(t.tx).toBeCloseTo(5, 9);
    expect(t.ty).toBeCloseTo(-3, 9);
  });

  it('lands synthetic landmarks on the reference, at any crop size', () => {
    const photoPoints = placeReference(2.7, -0.35, 140, 60);
    for (const size of [112, 224]) {
      const region = fivePointRegion(photoPoints, size);
      FIVE_POINT_REFERENCE_112.forEach((ref, i) => {
        // Pixel index i of the crop sits at crop coordinate i + 0.5.
        const k = size / 112;
        const p = cropToImage(region, size, (ref.x + 0.5) * k, (ref.y + 0.5) * k);
        expect(p.x).toBeCloseTo(photoPoints[i].x, 6);
        expect(p.y).toBeCloseTo(photoPoints[i].y, 6);
      });
    }
  });

  it('cuts the crop so that a marked pixel of the photo lands on its reference pixel', () => {
    const width = 400, height = 300;
    const photoPoints = placeReference(2, 0, 60, 20);
    const data = new Uint8Array(width * height * 3);
    // A bright 2x2 dot where the nose tip is (the dot's centre is the point itself).
    const nose = photoPoints[2];
    for (let y = Math.round(nose.y) - 1; y <= Math.round(nose.y); y++) for (let x = Math.round(nose.x) - 1; x <= Math.round(nose.x); x++) data.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
    const image: RgbImage = { data, width, height };
    const crop = sampleRegion(image, fivePointRegion(photoPoints, 112), 112);
    let best = -1, bestAt = -1;
    for (let i = 0; i < 112 * 112; i++) if (crop[i * 3] > best) [best, bestAt] = [crop[i * 3], i];
    expect(Math.abs((bestAt % 112) - FIVE_POINT_REFERENCE_112[2].x)).toBeLessThanOrEqual(1);
    expect(Math.abs(Math.floor(bestAt / 112) - FIVE_POINT_REFERENCE_112[2].y)).toBeLessThanOrEqual(1);
  });

  it('reads the eyes, nose tip and mouth corners of a FaceMesh face in the reference order', () => {
    const points = new Float32Array(FACEMESH_VERTEX_COUNT * 3);
    const set = (index: number, x: number, y: number) => { points[index * 3] = x; points[index * 3 + 1] = y; };
    [33, 133, 159, 145].forEach((i, k) => set(i, 10 + 2 * k, 20));
    [362, 263, 386, 374].forEach((i, k) => set(i, 50 + 2 * k, 22));
    set(1, 30, 40); set(61, 15, 60); set(291, 45, 61);
    expect(fivePointsFromFaceMesh(points)).toEqual([{ x: 13, y: 20 }, { x: 53, y: 22 }, { x: 30, y: 40 }, { x: 15, y: 60 }, { x: 45, y: 61 }]);
  });

  it('refuses points that cannot define a similarity', () => {
    expect(() => fitSimilarity([{ x: 1, y: 1 }, { x: 1, y: 1 }], [{ x: 0, y: 0 }, { x: 1, y: 0 }])).toThrow(RangeError);
    expect(() => fitSimilarity([{ x: 1, y: 1 }], [{ x: 0, y: 0 }])).toThrow(RangeError);
  });
});
