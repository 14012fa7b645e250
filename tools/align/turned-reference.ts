/**
 * Pose-aware alignment for turned faces, measured on CFP's frontal–profile pairs and not adopted
 * (docs/BENCHMARKS.md §62): the five-point reference given depth from a 3D mean face, turned with the
 * head and projected, fitted to the points the camera sees only; and FaceMesh's own yaw. On a
 * profile the far eye and mouth corner are hidden and FaceMesh can only guess them, and the visible
 * points no longer sit where the frontal reference puts them.
 */
import type { Point2 } from '../../src/core/image.js';
import type { SquareRegion } from '../../src/inference/crop.js';
import { FIVE_POINT_REFERENCE_112, fitSimilarity, fivePointRegion } from '../../src/inference/five-point.js';

/** A reference point with depth: x, y in reference pixels as FIVE_POINT_REFERENCE_112, z towards the camera. */
export interface ReferencePoint3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

/** A turnable reference and the depth of the face's sides (by the ears), reference pixels relative to the eyes. */
export interface TurnableReference {
  readonly points: ReferencePoint3[];
  readonly sidesDepth: number;
}

/**
 * The reference given a 3D face's depth: `face` holds its eye centres, nose tip and mouth corners in
 * the reference's order, then its chin and the midpoint of its sides (x right, y down, z towards the
 * camera, one unit). The similarity that puts its five points (x, y) on FIVE_POINT_REFERENCE_112
 * scales its depths into reference pixels; the five points keep the reference's x, y exactly.
 */
export function turnableReference(face: readonly ReferencePoint3[]): TurnableReference {
  if (face.length !== 7) throw new RangeError(`a face for the turnable reference has 7 points (five, chin, sides), got ${face.length}`);
  const t = fitSimilarity(face.slice(0, 5), FIVE_POINT_REFERENCE_112);
  const eyes = (face[0].z + face[1].z) / 2;
  const depth = (p: ReferencePoint3) => t.scale * (p.z - eyes);
  const chin = face[5];
  const [cos, sin] = [Math.cos(t.angle) * t.scale, Math.sin(t.angle) * t.scale];
  return {
    points: [
      ...FIVE_POINT_REFERENCE_112.map((p, i) => ({ ...p, z: depth(face[i]) })),
      { x: cos * chin.x - sin * chin.y + t.tx, y: sin * chin.x + cos * chin.y + t.ty, z: depth(chin) },
    ],
    sidesDepth: depth(face[6]),
  };
}

/** Means of 68-point markup indices, one per point of a face for turnableReference. */
const MARKUP_POINTS: readonly (readonly number[])[] = [[36, 37, 38, 39, 40, 41], [42, 43, 44, 45, 46, 47], [30], [48], [54], [8], [0, 16]];

/**
 * The seven points turnableReference reads from a face in the 68-point markup (flat xyz; x towards
 * the subject's left, i.e. the image's right, y up, z towards the camera: ICT-FaceKit's frame and
 * the bundles' model frame), in the reference's frame (y down).
 */
export function markupFace(markup: ArrayLike<number>): ReferencePoint3[] {
  if (markup.length !== 68 * 3) throw new RangeError(`a 68-point markup has ${68 * 3} values, got ${markup.length}`);
  return MARKUP_POINTS.map((indices) => {
    const mean = (axis: number) => indices.reduce((sum, i) => sum + markup[3 * i + axis], 0) / indices.length;
    return { x: mean(0), y: -mean(1), z: mean(2) };
  });
}

/**
 * FIVE_POINT_REFERENCE_112 with depth, and the chin: turnableReference of ICT-FaceKit's
 * neutral face (the mean of its light-stage scans, MIT licence; markupFace's points), rounded
 * (0.571 reference px per mm; test/unit/tools/align checks it against the kit where present): the nose tip 38 mm,
 * the mouth corners 10 mm and the chin 12 mm in front of the eyes. (FaceMesh's own mean depth, the
 * shipped bundle's mean shape, puts the mouth corners behind the eyes: not a face to turn.)
 */
export const TURNABLE_REFERENCE_112: readonly ReferencePoint3[] = [
  { ...FIVE_POINT_REFERENCE_112[0], z: 0 },
  { ...FIVE_POINT_REFERENCE_112[1], z: 0 },
  { ...FIVE_POINT_REFERENCE_112[2], z: 21.96 },
  { ...FIVE_POINT_REFERENCE_112[3], z: 5.51 },
  { ...FIVE_POINT_REFERENCE_112[4], z: 5.51 },
  { x: 56.27, y: 115.39, z: 6.91 },
];
export const REFERENCE_CHIN = 5;

/** Depth of the face's sides (ICT-FaceKit's jaw points 0 and 16, by the ears) in reference pixels, relative to the eyes (56 mm behind them). */
export const REFERENCE_SIDES_DEPTH = -31.77;

/** The reference's vertical midline (between the eyes), about which it turns. */
const REFERENCE_MIDLINE = (FIVE_POINT_REFERENCE_112[0].x + FIVE_POINT_REFERENCE_112[1].x) / 2;

/**
 * The reference seen turned by `yaw` radians about the vertical axis at depth `axisDepth` (reference
 * pixels, as the points' z) on the midline; positive yaw turns the nose towards the image's right,
 * which shows the image-left eye and mouth corner.
 */
export function turnedReference(yaw: number, axisDepth: number, reference: readonly ReferencePoint3[] = TURNABLE_REFERENCE_112): Point2[] {
  const cos = Math.cos(yaw), sin = Math.sin(yaw);
  return reference.map((p) => ({ x: REFERENCE_MIDLINE + (p.x - REFERENCE_MIDLINE) * cos + (p.z - axisDepth) * sin, y: p.y }));
}

/** Indices (reference order, chin last) of the points a face turned towards `direction` (the sign of its yaw) shows: the near eye and mouth corner, the nose tip, and the chin if `chin`. */
export function visiblePoints(direction: number, chin: boolean): number[] {
  const near = direction > 0 ? [0, 2, 3] : [1, 2, 4];
  return chin ? [...near, REFERENCE_CHIN] : near;
}

/** How a turned face is aligned: see turnedFaceRegion. */
export interface TurnedAlignment {
  /** Which way the face is turned (its sign: which eye and mouth corner are visible). */
  readonly direction: number;
  /** The yaw the reference is turned by, radians. */
  readonly yaw: number;
  /** Depth of the vertical axis it turns about, reference pixels as the points' z. */
  readonly axisDepth: number;
  /** Fit the chin too. */
  readonly chin: boolean;
  /** The reference points spread by this factor about their centroid (> 1: a larger face in the crop). */
  readonly zoom: number;
  readonly reference?: readonly ReferencePoint3[];
}

/**
 * The crop region (crop.ts convention) that puts a face's visible points (of the five points in the
 * reference's order, and the chin) on the turned reference by one similarity, the hidden points unused.
 */
export function turnedFaceRegion(fivePoints: readonly Point2[], chin: Point2, size: number, alignment: TurnedAlignment): SquareRegion {
  const turned = turnedReference(alignment.yaw, alignment.axisDepth, alignment.reference);
  const photo = [...fivePoints, chin];
  const visible = visiblePoints(alignment.direction, alignment.chin);
  const target = visible.map((i) => turned[i]);
  const cx = target.reduce((a, p) => a + p.x, 0) / target.length;
  const cy = target.reduce((a, p) => a + p.y, 0) / target.length;
  const zoomed = target.map((p) => ({ x: cx + alignment.zoom * (p.x - cx), y: cy + alignment.zoom * (p.y - cy) }));
  return fivePointRegion(visible.map((i) => photo[i]), size, zoomed);
}

/** Symmetric FaceMesh vertices (subject's right, left): the face's sides, outer eye corners, cheeks, mouth corners, jaw. */
const SYMMETRIC_PAIRS: readonly (readonly [number, number])[] = [[234, 454], [33, 263], [93, 323], [132, 361], [61, 291], [58, 288]];

/**
 * A FaceMesh face's yaw (radians, positive: nose towards the image's right) from its own 3D points:
 * the direction of the lines joining its two sides in the plane of x and depth. FaceMesh flattens
 * turns: CFP's full profiles read about 45 degrees (docs/BENCHMARKS.md §62).
 */
export function faceMeshYaw(points: Float32Array): number {
  let dx = 0, dz = 0;
  for (const [right, left] of SYMMETRIC_PAIRS) {
    dx += points[left * 3] - points[right * 3];
    dz += points[left * 3 + 2] - points[right * 3 + 2];
  }
  // FaceMesh's z grows away from the camera: a nose turned right brings the image-left side nearer.
  return Math.atan2(dz, dx);
}
