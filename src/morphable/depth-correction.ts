/**
 * A correction of the morphable model's depth from faces whose depth was seen (issue 14: CFP's
 * frontal and full-profile photos, `multi-view.ts`), spread over every vertex by thin-plate splines.
 *
 * FaceMesh's x and y come from photos and are trusted; its depth is the canonical face's, and
 * barely varies between people. So only z is corrected: at each marked point the measured depth
 * less the model's, and between points the smoothest surface through those differences
 * (`thin-plate.ts`, over the mean face's x, y). A point of the face's right half carries its
 * mirror image on the left (faces are near symmetric; CFP marks one half), so one value moves both.
 */
import { alignSimilarity } from './procrustes.js';
import { FACEMESH_MIRROR } from './facemesh-topology.js';
import { thinPlateOperator } from './thin-plate.js';
import type { FloatArray, Matrix } from '../core/linear-algebra.js';

/** FaceMesh vertices averaged for each marked point (`FACEMESH_TO_DLIB68`'s entries). */
export type PointSources = readonly (readonly number[])[];

function pointAt(shape: FloatArray, source: readonly number[], axis: number): number {
  return source.reduce((sum, v) => sum + shape[3 * v + axis], 0) / source.length;
}

/** The marked points of a FaceMesh shape (flat xyz). */
export function markedPoints(shape: FloatArray, sources: PointSources): Float64Array {
  return Float64Array.from(sources.flatMap((source) => [0, 1, 2].map((axis) => pointAt(shape, source, axis))));
}

/** Mirror images nearer than this (mm) to their point are the point itself (the midline). */
const MIDLINE_MM = 2;

/**
 * One depth field per marked point (rows: points, cols: the mean's flat xyz, only z non-zero): the
 * thin-plate spline through a unit depth at the point and its mirror image and zero at every other
 * point, over the mean face's x, y; `lambda` smooths (in units of the points' radius).
 */
export function depthFields(mean: FloatArray, sources: PointSources, lambda: number): Matrix<Float64Array> {
  const centres: number[] = [];
  const owner: number[] = [];
  sources.forEach((source, k) => {
    const [x, y] = [pointAt(mean, source, 0), pointAt(mean, source, 1)];
    centres.push(x, y);
    owner.push(k);
    const mirror = source.map((v) => FACEMESH_MIRROR[v]);
    const [mx, my] = [pointAt(mean, mirror, 0), pointAt(mean, mirror, 1)];
    if (Math.hypot(mx - x, my - y) > MIDLINE_MM) {
      centres.push(mx, my);
      owner.push(k);
    }
  });
  const vertices = mean.length / 3;
  const queries = Float64Array.from({ length: 2 * vertices }, (_, c) => mean[3 * (c >> 1) + (c & 1)]);
  const spline = thinPlateOperator(centres, queries, lambda);
  const fields = { rows: sources.length, cols: mean.length, data: new Float64Array(sources.length * mean.length) };
  for (let v = 0; v < vertices; v++) {
    for (let c = 0; c < spline.cols; c++) fields.data[owner[c] * mean.length + 3 * v + 2] += spline.data[v * spline.cols + c];
  }
  return fields;
}

/**
 * Depth of measured 3D points (any frame and scale) against the model's at the same points, in
 * the model's millimetres: the points are similarity-aligned to the model's, then rescaled about
 * their centre so their spread in x, y matches the model's (x, y are what the model is sure of;
 * letting its wrong depth set the scale would scale the measured depth by the model's error).
 */
export function depthDifferences(measured: FloatArray, model: FloatArray): Float64Array {
  const aligned = alignSimilarity(measured, model).aligned;
  const n = model.length / 3;
  const spread = (points: FloatArray) => {
    const centre = [0, 1, 2].map((a) => Array.from({ length: n }, (_, i) => points[3 * i + a]).reduce((s, v) => s + v, 0) / n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (points[3 * i] - centre[0]) ** 2 + (points[3 * i + 1] - centre[1]) ** 2;
    return { centre, radius: Math.sqrt(sum / n) };
  };
  const a = spread(aligned);
  const scale = spread(model).radius / a.radius;
  return Float64Array.from({ length: n }, (_, i) => a.centre[2] + (aligned[3 * i + 2] - a.centre[2]) * scale - model[3 * i + 2]);
}

/** Σ_k values_k · fields_k: the dense correction (flat xyz) for depth differences at the points. */
export function spreadDepth(fields: Matrix<Float64Array>, values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(fields.cols);
  for (let k = 0; k < fields.rows; k++) {
    if (values[k] === 0) continue;
    for (let c = 0; c < fields.cols; c++) out[c] += values[k] * fields.data[k * fields.cols + c];
  }
  return out;
}
