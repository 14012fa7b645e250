/**
 * One rigid set of 3D points from several scaled orthographic views of it (issue 14: a person's
 * face from frontal and full-profile photos, whose hand-marked points see depth directly).
 *
 * Alternation: each view's camera by `orthographicPose` against the current points, then each
 * point by linear least squares over the views (views from different directions make its 3x3
 * normal matrix full rank: a frontal view fixes x and y, a profile z and y). The points are
 * re-centred and scaled to unit RMS radius after every round, so the solution cannot drift in
 * scale or position (the views fix everything else up to a rotation of the whole set).
 */
import { centred, orthographicPose } from './landmark-fit.js';
import type { FloatArray } from '../core/linear-algebra.js';

export interface MultiViewFit {
  /** Flat xyz, centred, unit RMS distance from the centre. */
  readonly points: Float64Array;
  /** Per view, the first two rows of its rotation (row-major 2x3) and its scale (view units per point unit). */
  readonly cameras: readonly { readonly rows: Float64Array; readonly scale: number }[];
  /** RMS distance (view units over point units, i.e. relative to the face's size) between the views and the reprojected points. */
  readonly rmsd: number;
}

export interface MultiViewOptions {
  /** Pose / points alternations; default 30. */
  readonly iterations?: number;
}

/** Centred, unit RMS radius: the gauge every round returns to. */
export function normalisePoints(points: ArrayLike<number>): Float64Array {
  const shifted = centred(points, 3);
  let sum = 0;
  for (const v of shifted) sum += v * v;
  const radius = Math.sqrt(sum / (shifted.length / 3));
  return shifted.map((v) => v / radius);
}

/**
 * `views`: flat xy (y up) of the same n points in each photo; `initial`: flat xyz of a rough
 * guess (depth must be roughly right for the profile views' poses to be found: e.g. a frontal
 * view's x, y and a profile view's horizontal coordinate as z).
 */
export function reconstructFromViews(views: readonly FloatArray[], initial: FloatArray, options: MultiViewOptions = {}): MultiViewFit {
  const n = initial.length / 3;
  if (views.length < 2) throw new RangeError('reconstructFromViews needs at least two views');
  for (const view of views) if (view.length !== 2 * n) throw new RangeError(`every view needs ${n} points (x, y)`);
  const targets = views.map((view) => centred(view, 2));
  let points = normalisePoints(initial);
  let cameras = targets.map((target) => orthographicPose(points, target));
  for (let round = 0; round < (options.iterations ?? 30); round++) {
    cameras = targets.map((target) => orthographicPose(points, target));
    const next = new Float64Array(3 * n);
    // Every point's normal matrix Σ s² RᵀR is the same (all views see all points): one inverse.
    const normal = new Float64Array(9);
    for (const { rows, scale } of cameras) {
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) normal[3 * r + c] += scale * scale * (rows[r] * rows[c] + rows[3 + r] * rows[3 + c]);
    }
    const inverse = invertSymmetric3(normal);
    for (let i = 0; i < n; i++) {
      const rhs = [0, 0, 0];
      cameras.forEach(({ rows, scale }, k) => {
        const [u, v] = [targets[k][2 * i], targets[k][2 * i + 1]];
        for (let r = 0; r < 3; r++) rhs[r] += scale * (rows[r] * u + rows[3 + r] * v);
      });
      for (let r = 0; r < 3; r++) next[3 * i + r] = inverse[3 * r] * rhs[0] + inverse[3 * r + 1] * rhs[1] + inverse[3 * r + 2] * rhs[2];
    }
    points = normalisePoints(next);
  }
  cameras = targets.map((target) => orthographicPose(points, target));
  let sum = 0;
  cameras.forEach(({ rows, scale }, k) => {
    const projected = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < 2; r++) projected[2 * i + r] = scale * (rows[3 * r] * points[3 * i] + rows[3 * r + 1] * points[3 * i + 1] + rows[3 * r + 2] * points[3 * i + 2]);
    }
    const reprojected = centred(projected, 2);
    for (let c = 0; c < 2 * n; c++) sum += ((reprojected[c] - targets[k][c]) / scale) ** 2;
  });
  return { points, cameras: cameras.map(({ rows, scale }) => ({ rows, scale })), rmsd: Math.sqrt(sum / (views.length * n)) };
}

function invertSymmetric3(m: Float64Array): Float64Array {
  const [a, b, c, , e, f, , , k] = m;
  const det = a * (e * k - f * f) - b * (b * k - f * c) + c * (b * f - e * c);
  if (!(Math.abs(det) > 1e-12)) throw new RangeError('reconstructFromViews: the views do not see depth (all from one direction)');
  return Float64Array.of(e * k - f * f, c * f - b * k, b * f - c * e, f * c - b * k, a * k - c * c, c * b - a * f, b * f - e * c, b * c - a * f, a * e - b * b).map((v) => v / det);
}
