import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cropToImage } from '../../../../src/inference/crop.js';
import { FIVE_POINT_REFERENCE_112, fivePointRegion } from '../../../../src/inference/five-point.js';
import type { Point2 } from '../../../../src/core/image.js';
import { FACEMESH_VERTEX_COUNT } from '../../../../src/morphable/facemesh-topology.js';
import { loadIctFaceKit } from '../../../../src/morphable/ict-facekit.js';
import { faceMeshYaw, markupFace, REFERENCE_CHIN, turnableReference, REFERENCE_SIDES_DEPTH, TURNABLE_REFERENCE_112, turnedFaceRegion, turnedReference, visiblePoints } from '../../../../tools/align/turned-reference.js';

const MIDLINE = (FIVE_POINT_REFERENCE_112[0].x + FIVE_POINT_REFERENCE_112[1].x) / 2;

/**
 * A synthetic face (the turnable reference's own 3D points) turned by `yaw` about a vertical axis at
 * `axisDepth`, projected orthographically and placed in a photo by scale, rotation and shift.
 */
function photographTurnedFace(yaw: number, axisDepth: number, scale: number, angle: number, tx: number, ty: number): Point2[] {
  return TURNABLE_REFERENCE_112.map(({ x, y, z }) => {
    // Rotation about the vertical axis: x right, z towards the camera, nose to the right for yaw > 0.
    const u = MIDLINE + (x - MIDLINE) * Math.cos(yaw) + (z - axisDepth) * Math.sin(yaw) + 0.5;
    const v = y + 0.5;
    return { x: scale * (Math.cos(angle) * u - Math.sin(angle) * v) + tx, y: scale * (Math.sin(angle) * u + Math.cos(angle) * v) + ty };
  });
}

describe('the turned five-point reference', () => {
  it('is the usual reference when the face looks at the camera', () => {
    const turned = turnedReference(0, REFERENCE_SIDES_DEPTH);
    FIVE_POINT_REFERENCE_112.forEach((p, i) => {
      expect(turned[i].x).toBeCloseTo(p.x, 9);
      expect(turned[i].y).toBeCloseTo(p.y, 9);
    });
    expect(turned[REFERENCE_CHIN].y).toBeGreaterThan(FIVE_POINT_REFERENCE_112[3].y);
  });

  it('puts a full profile in depth order: nose tip ahead of the mouth corner, ahead of the eye, all ahead of the axis', () => {
    const turned = turnedReference(Math.PI / 2, REFERENCE_SIDES_DEPTH);
    const [eye, , nose, mouth] = turned;
    expect(nose.x).toBeGreaterThan(mouth.x);
    expect(mouth.x).toBeGreaterThan(eye.x);
    expect(eye.x).toBeCloseTo(MIDLINE - REFERENCE_SIDES_DEPTH, 9);
    // Turned the other way, the mirror image about the midline.
    const other = turnedReference(-Math.PI / 2, REFERENCE_SIDES_DEPTH);
    expect(other[2].x).toBeCloseTo(2 * MIDLINE - nose.x, 9);
  });

  it('names the near eye and mouth corner as visible', () => {
    expect(visiblePoints(0.8, false)).toEqual([0, 2, 3]);
    expect(visiblePoints(-0.8, false)).toEqual([1, 2, 4]);
    expect(visiblePoints(-0.8, true)).toEqual([1, 2, 4, REFERENCE_CHIN]);
  });

  it('aligns a face photographed at a known yaw from its visible points alone: every point, hidden ones too, lands on the turned reference', () => {
    for (const yaw of [-1.4, -0.6, 0.5, 1.2, Math.PI / 2]) {
      const axisDepth = 0.5 * REFERENCE_SIDES_DEPTH;
      const photo = photographTurnedFace(yaw, axisDepth, 2.4, 0.3, 80, -20);
      const reference = turnedReference(yaw, axisDepth);
      // The hidden eye and mouth corner are given wrong on purpose: FaceMesh can only guess them.
      const five = photo.slice(0, 5).map((p, i) => (visiblePoints(yaw, false).includes(i) ? p : { x: p.x + 40, y: p.y - 25 }));
      for (const size of [112, 224]) {
        const region = turnedFaceRegion(five, photo[REFERENCE_CHIN], size, { direction: yaw, yaw, axisDepth, chin: true, zoom: 1 });
        const k = size / 112;
        reference.forEach((ref, i) => {
          const p = cropToImage(region, size, (ref.x + 0.5) * k, (ref.y + 0.5) * k);
          expect(p.x).toBeCloseTo(photo[i].x, 6);
          expect(p.y).toBeCloseTo(photo[i].y, 6);
        });
      }
    }
  });
  it('zooms about the visible points: the face grows by the zoom and their centroid stays where it was', () => {
    const yaw = 0.9, axisDepth = 0;
    const photo = photographTurnedFace(yaw, axisDepth, 1.7, -0.1, 30, 10);
    const alignment = { direction: 1, yaw, axisDepth, chin: false, zoom: 1 };
    const plain = turnedFaceRegion(photo.slice(0, 5), photo[REFERENCE_CHIN], 112, alignment);
    const zoomed = turnedFaceRegion(photo.slice(0, 5), photo[REFERENCE_CHIN], 112, { ...alignment, zoom: 1.25 });
    expect(plain.side / zoomed.side).toBeCloseTo(1.25, 9);
    const turned = turnedReference(yaw, axisDepth);
    const visible = visiblePoints(1, false);
    const cx = visible.reduce((a, i) => a + turned[i].x + 0.5, 0) / 3, cy = visible.reduce((a, i) => a + turned[i].y + 0.5, 0) / 3;
    const [a, b] = [cropToImage(plain, 112, cx, cy), cropToImage(zoomed, 112, cx, cy)];
    expect(b.x).toBeCloseTo(a.x, 6);
    expect(b.y).toBeCloseTo(a.y, 6);
  });

  it('turned by 0, gives an undistorted face the usual five-point alignment from its visible points', () => {
    const photo = photographTurnedFace(0, REFERENCE_SIDES_DEPTH, 2, 0.2, 50, 40);
    const region = turnedFaceRegion(photo.slice(0, 5), photo[REFERENCE_CHIN], 112, { direction: 1, yaw: 0, axisDepth: REFERENCE_SIDES_DEPTH, chin: false, zoom: 1 });
    const usual = fivePointRegion(photo.slice(0, 5), 112);
    expect(region.centerX).toBeCloseTo(usual.centerX, 6);
    expect(region.centerY).toBeCloseTo(usual.centerY, 6);
    expect(region.side).toBeCloseTo(usual.side, 6);
    expect(region.angle).toBeCloseTo(usual.angle, 9);
  });
});

describe('the turnable reference from a 3D face', () => {
  it('keeps the five points on the reference and scales depth by the similarity, relative to the eyes', () => {
    // A face twice the reference's size, shifted, with known depths.
    const depths = [10, 12, 40, 18, 18, 20, -50];
    const face = [...FIVE_POINT_REFERENCE_112, { x: 56, y: 118 }, { x: 56, y: 50 }].map((p, i) => ({ x: 2 * p.x + 7, y: 2 * p.y - 3, z: depths[i] }));
    const { points, sidesDepth } = turnableReference(face);
    FIVE_POINT_REFERENCE_112.forEach((p, i) => {
      expect(points[i].x).toBeCloseTo(p.x, 9);
      expect(points[i].y).toBeCloseTo(p.y, 9);
    });
    expect(points[2].z).toBeCloseTo((40 - 11) / 2, 9);
    expect(points[REFERENCE_CHIN]).toEqual({ x: expect.closeTo(56, 9), y: expect.closeTo(118, 9), z: expect.closeTo((20 - 11) / 2, 9) });
    expect(sidesDepth).toBeCloseTo(-61 / 2, 9);
  });

  const ictDir = join(process.cwd(), '..', 'shared', 'models3d', 'ict-facekit');
  const real = existsSync(join(ictDir, 'model.json')) ? it : it.skip;
  real('(needs ../shared ICT-FaceKit) is what the committed reference rounds: ICT-FaceKit\'s neutral face', async () => {
    const { points, sidesDepth } = turnableReference(markupFace((await loadIctFaceKit(ictDir)).identity.mean));
    TURNABLE_REFERENCE_112.forEach((p, i) => {
      expect(Math.abs(points[i].x - p.x)).toBeLessThan(0.01);
      expect(Math.abs(points[i].y - p.y)).toBeLessThan(0.01);
      expect(Math.abs(points[i].z - p.z)).toBeLessThan(0.01);
    });
    expect(Math.abs(sidesDepth - REFERENCE_SIDES_DEPTH)).toBeLessThan(0.01);
  });
});

describe('FaceMesh yaw', () => {
  /** A FaceMesh-like face: its symmetric vertices on both sides, turned by `yaw` (FaceMesh's frame: z grows away from the camera). */
  function turnedMesh(yaw: number): Float32Array {
    const points = new Float32Array(FACEMESH_VERTEX_COUNT * 3);
    const pairs = [[234, 454, 70, 0, 40], [33, 263, 30, -10, 5], [93, 323, 65, 10, 35], [132, 361, 60, 30, 30], [61, 291, 25, 45, -2], [58, 288, 50, 50, 20]];
    for (const [right, left, half, y, depth] of pairs) {
      for (const [vertex, x] of [[right, -half], [left, half]]) {
        points[vertex * 3] = 200 + x * Math.cos(yaw) - depth * Math.sin(yaw);
        points[vertex * 3 + 1] = 150 + y;
        points[vertex * 3 + 2] = x * Math.sin(yaw) + depth * Math.cos(yaw);
      }
    }
    return points;
  }

  it('reads a turn back, its side included', () => {
    for (const yaw of [0, 0.3, -0.7, 1.3]) expect(faceMeshYaw(turnedMesh(yaw))).toBeCloseTo(yaw, 5);
  });
});
