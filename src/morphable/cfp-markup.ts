/**
 * CFP's 30 hand-marked points (Sengupta et al., WACV 2016) in frontal and full-profile photos: one
 * half of the face and its midline, the half the profile shows. Read from the files: points 1–9 the
 * jaw from the ear to the chin, 10–12 the brow (outer, middle, inner), 13–18 the eye (outer corner,
 * upper lid, inner corner, lower lid), 19–22 the nose bridge to the tip, 23–25 the subnasale and the
 * nostril's base outwards, 26 the mouth corner, 27 the upper lip's top, 28 and 30 the inner lips,
 * 29 the lower lip's bottom. Here they are named by the 68-point markup (`facemesh-dlib68.ts`) of
 * the subject's right half, which frontal photos mark on the image's left.
 *
 * Points 1–8 are left out of every 3D use: a jaw line is a silhouette, a different piece of skin in
 * each view. The chin (9) is kept: on the midline both views mark its lowest point.
 */
import type { FloatArray } from '../core/linear-algebra.js';

export const CFP_POINT_COUNT = 30;

/** 68-point markup index of each CFP point (0-based CFP order). */
export const CFP_TO_DLIB68: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 17, 19, 21, 36, 37, 38, 39, 40, 41, 27, 28, 29, 30, 33, 32, 31, 48, 51, 62, 57, 66];

/** CFP points (0-based) that are the same piece of skin in frontal and profile views. */
export const CFP_RIGID_POINTS: readonly number[] = Array.from({ length: CFP_POINT_COUNT - 8 }, (_, k) => k + 8);

const JAW = [0, 1, 2, 3, 4, 5, 6, 7];
const NOSE_BRIDGE = [18, 19, 20, 21];
const NOSE_TIP = 21;

function meanX(points: FloatArray, indices: readonly number[]): number {
  return indices.reduce((sum, i) => sum + points[2 * i], 0) / indices.length;
}

/**
 * One photo's points (flat x, y in pixels, y down) as a view of the subject's right half in a y-up
 * frame: mirrored where the photo marks the other half, so that a frontal view has the jaw left of
 * the nose and a profile faces the image's right (its horizontal axis is then the face's depth).
 */
export function orientCfpView(points: FloatArray, view: 'frontal' | 'profile'): Float64Array {
  if (points.length !== 2 * CFP_POINT_COUNT) throw new RangeError(`a CFP markup has ${CFP_POINT_COUNT} points, got ${points.length / 2}`);
  const jaw = meanX(points, JAW);
  const mirror = view === 'frontal' ? jaw > meanX(points, NOSE_BRIDGE) : points[2 * NOSE_TIP] < jaw;
  return Float64Array.from(points, (v, c) => (c % 2 === 0 ? (mirror ? -v : v) : -v));
}

/**
 * A first guess of the 3D points from oriented views: x, y from the mean frontal view, z from the
 * mean profile's horizontal axis, the profile scaled to the frontal by the points' spread in y.
 */
export function initialCfpShape(frontal: readonly FloatArray[], profile: readonly FloatArray[]): Float64Array {
  const mean = (views: readonly FloatArray[]) => Float64Array.from(views[0], (_, c) => views.reduce((s, v) => s + v[c], 0) / views.length);
  const spreadY = (view: Float64Array) => {
    const n = view.length / 2;
    const ys = Array.from({ length: n }, (_, i) => view[2 * i + 1]);
    const m = ys.reduce((a, b) => a + b, 0) / n;
    return Math.sqrt(ys.reduce((a, y) => a + (y - m) ** 2, 0) / n);
  };
  const front = mean(frontal);
  const side = mean(profile);
  const scale = spreadY(front) / spreadY(side);
  const n = front.length / 2;
  return Float64Array.from({ length: 3 * n }, (_, c) => {
    const i = Math.floor(c / 3);
    return c % 3 === 0 ? front[2 * i] : c % 3 === 1 ? front[2 * i + 1] : scale * side[2 * i];
  });
}

/** The rigid points of a view (flat xy of `CFP_RIGID_POINTS`). */
export function rigidPoints(view: FloatArray, dims: 2 | 3): Float64Array {
  return Float64Array.from(CFP_RIGID_POINTS.flatMap((i) => Array.from({ length: dims }, (_, a) => view[dims * i + a])));
}
