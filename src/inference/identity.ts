import type { SquareRegion } from './crop.js';
import { FACEMESH_LANDMARKS } from '../morphable/facemesh-topology.js';

/**
 * Framing of the identity network's crop, relative to the face's own landmarks so that it does not
 * depend on how the photo was taken. The face's size is the RMS distance of its 468 3D landmarks
 * from their centroid: averaged over the whole mesh, it barely moves with expression, and being 3D
 * it does not shrink when the head turns. The crop's side is `side` sizes; its centre lies `offset`
 * sizes from the landmarks' centroid along the face's vertical axis (negative: towards the
 * forehead); `level` rotates the crop so the eyes are horizontal.
 */
export interface IdentityFraming {
  readonly offset: number;
  readonly side: number;
  readonly level: boolean;
}

/** Chosen on pairs of LFW *train* people, never on the dev pairs (docs/BENCHMARKS.md §2; `npm run bench:identity` searches each network's framing the same way). */
export const DEFAULT_IDENTITY_FRAMING: IdentityFraming = { offset: -0.29, side: 4.06, level: true };

export interface FaceFrame {
  readonly centroidX: number;
  readonly centroidY: number;
  /** RMS 3D distance of the landmarks from their centroid, in photo pixels. */
  readonly size: number;
  /** Eye-line angle (radians). */
  readonly roll: number;
}

export function faceFrame(points: Float32Array): FaceFrame {
  const n = points.length / 3;
  let cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < n; i++) {
    cx += points[i * 3];
    cy += points[i * 3 + 1];
    cz += points[i * 3 + 2];
  }
  cx /= n; cy /= n; cz /= n;
  let squared = 0;
  for (let i = 0; i < n; i++) squared += (points[i * 3] - cx) ** 2 + (points[i * 3 + 1] - cy) ** 2 + (points[i * 3 + 2] - cz) ** 2;
  const right = FACEMESH_LANDMARKS.rightEyeOuterCorner * 3;
  const left = FACEMESH_LANDMARKS.leftEyeOuterCorner * 3;
  const roll = Math.atan2(points[left + 1] - points[right + 1], points[left] - points[right]);
  return { centroidX: cx, centroidY: cy, size: Math.sqrt(squared / n), roll };
}

export function identityRegion(points: Float32Array, framing: IdentityFraming = DEFAULT_IDENTITY_FRAMING): SquareRegion {
  const frame = faceFrame(points);
  const angle = framing.level ? frame.roll : 0;
  // The face's downward axis is the eye line turned by +90°.
  const shift = framing.offset * frame.size;
  return {
    centerX: frame.centroidX - Math.sin(angle) * shift,
    centerY: frame.centroidY + Math.cos(angle) * shift,
    side: framing.side * frame.size,
    angle,
  };
}
