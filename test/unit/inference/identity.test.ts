import { describe, expect, it } from '@jest/globals';
import { faceFrame, identityRegion } from '../../../src/inference/identity.js';
import { FACEMESH_LANDMARKS, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';

/** A flat "face": the UV layout scaled to `scale` pixels, rotated by `angle`, placed at (cx, cy). */
function layoutFace(scale: number, angle: number, cx: number, cy: number): Float32Array {
  const points = new Float32Array(FACEMESH_VERTEX_COUNT * 3);
  for (let i = 0; i < FACEMESH_VERTEX_COUNT; i++) {
    const u = (FACEMESH_UVS[i * 2] - 0.5) * scale;
    const v = (FACEMESH_UVS[i * 2 + 1] - 0.5) * scale;
    points[i * 3] = cx + Math.cos(angle) * u - Math.sin(angle) * v;
    points[i * 3 + 1] = cy + Math.sin(angle) * u + Math.cos(angle) * v;
  }
  return points;
}

describe('identity crop framing', () => {
  it('scales with the face and follows its roll', () => {
    const small = faceFrame(layoutFace(100, 0, 50, 60));
    const large = faceFrame(layoutFace(200, 0.3, 50, 60));
    expect(large.size / small.size).toBeCloseTo(2, 6);
    expect(large.roll).toBeCloseTo(0.3, 2);
    expect(small.roll).toBeCloseTo(0, 2);
  });

  it('moves the crop along the face axis and levels it', () => {
    const points = layoutFace(100, 0.3, 50, 60);
    const frame = faceFrame(points);
    const region = identityRegion(points, { offset: -1, side: 4, level: true });
    expect(region.side).toBeCloseTo(4 * frame.size, 6);
    expect(region.angle).toBeCloseTo(frame.roll, 10);
    // One size towards the forehead: up the rotated face's vertical axis.
    expect(region.centerX - frame.centroidX).toBeCloseTo(Math.sin(frame.roll) * frame.size, 6);
    expect(region.centerY - frame.centroidY).toBeCloseTo(-Math.cos(frame.roll) * frame.size, 6);
    expect(identityRegion(points, { offset: 0, side: 4, level: false }).angle).toBe(0);
    expect(FACEMESH_LANDMARKS.rightEyeOuterCorner).toBeLessThan(FACEMESH_VERTEX_COUNT);
  });
});
