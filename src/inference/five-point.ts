import type { Point2 } from '../core/image.js';
import type { SquareRegion } from './crop.js';

/**
 * Five-point alignment, as ArcFace-style networks were trained: the eyes, the nose tip and the
 * mouth corners mapped by one similarity (rotation, uniform scale, translation) onto a fixed
 * reference in a 112x112 crop. A similarity is exactly a rotated square region, so the crop is cut
 * by the same bilinear sampler as every other network input (crop.ts).
 */

/**
 * The usual 112x112 reference (InsightFace / faceplugin's `REFERENCE_FACIAL_POINTS`), in pixel-index
 * coordinates (pixel centres at integers): image-left eye, image-right eye, nose tip, image-left
 * mouth corner, image-right mouth corner.
 */
export const FIVE_POINT_REFERENCE_112: readonly Point2[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];
export const FIVE_POINT_REFERENCE_SIZE = 112;

/** FaceMesh vertices averaged into each of the five points (eye centres from their corners and lids). */
const FACEMESH_FIVE_POINTS: readonly (readonly number[])[] = [
  [33, 133, 159, 145],
  [362, 263, 386, 374],
  [1],
  [61],
  [291],
];

/** The five points of a FaceMesh face (flat x, y, z in photo pixels), in the reference's order. */
export function fivePointsFromFaceMesh(points: Float32Array): Point2[] {
  return FACEMESH_FIVE_POINTS.map((indices) => {
    let x = 0, y = 0;
    for (const i of indices) {
      x += points[i * 3];
      y += points[i * 3 + 1];
    }
    return { x: x / indices.length, y: y / indices.length };
  });
}

/** image ≈ scale · R(angle) · source + (tx, ty), least squares (Umeyama, no reflection). */
export interface Similarity {
  readonly scale: number;
  readonly angle: number;
  readonly tx: number;
  readonly ty: number;
}

export function fitSimilarity(source: readonly Point2[], target: readonly Point2[]): Similarity {
  if (source.length !== target.length || source.length < 2) throw new RangeError(`a similarity needs ≥ 2 matched points, got ${source.length} and ${target.length}`);
  const n = source.length;
  const mean = (ps: readonly Point2[]) => ({ x: ps.reduce((a, p) => a + p.x, 0) / n, y: ps.reduce((a, p) => a + p.y, 0) / n });
  const ms = mean(source);
  const mt = mean(target);
  let a = 0, b = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = source[i].x - ms.x, sy = source[i].y - ms.y;
    const dx = target[i].x - mt.x, dy = target[i].y - mt.y;
    a += sx * dx + sy * dy;
    b += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm === 0) throw new RangeError('the source points coincide');
  const c = a / norm;
  const s = b / norm;
  return { scale: Math.hypot(c, s), angle: Math.atan2(s, c), tx: mt.x - (c * ms.x - s * ms.y), ty: mt.y - (s * ms.x + c * ms.y) };
}

/**
 * The crop region (crop.ts convention: continuous coordinates, pixel centres at +0.5) that puts
 * `points` on the reference in a `size`-pixel crop.
 */
export function fivePointRegion(points: readonly Point2[], size: number, reference: readonly Point2[] = FIVE_POINT_REFERENCE_112, referenceSize = FIVE_POINT_REFERENCE_SIZE): SquareRegion {
  const k = size / referenceSize;
  // Reference pixel indices → continuous crop coordinates (centre of pixel i is i + 0.5).
  const source = reference.map((p) => ({ x: (p.x + 0.5) * k, y: (p.y + 0.5) * k }));
  const t = fitSimilarity(source, points);
  const cos = Math.cos(t.angle) * t.scale;
  const sin = Math.sin(t.angle) * t.scale;
  const half = size / 2;
  return { centerX: cos * half - sin * half + t.tx, centerY: sin * half + cos * half + t.ty, side: t.scale * size, angle: t.angle };
}
